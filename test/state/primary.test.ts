import { EventEmitter } from 'node:events';
import { PrimaryStateClient, PrimaryStateHost } from '../../src/state/primary.js';
import type { ProcessChannel, WorkerChannel } from '../../src/state/primary.js';
import { stateStoreContract } from './contract.js';

/**
 * The store of `serve --workers` (a worker's client asking the primary's host), through a stand-in for the cluster's
 * IPC channel that behaves like it: messages are JSON-serialized and arrive later, never in the same tick. The real
 * channel is exercised by test/server/cluster.test.ts.
 */
type Listener = (...a: unknown[]) => void;

function ipcPair(): { worker: WorkerChannel; channel: ProcessChannel } {
  const toWorker = new EventEmitter();
  const toPrimary = new EventEmitter();
  const deliver = (to: EventEmitter, m: unknown) => {
    const copy: unknown = JSON.parse(JSON.stringify(m));
    setImmediate(() => to.emit('message', copy));
  };
  const worker = {
    on: (event: string, f: Listener) => (toPrimary.on(event, f), worker),
    once: (event: string, f: Listener) => (toPrimary.once(event, f), worker),
    send: (m: unknown) => (deliver(toWorker, m), true),
    isConnected: () => true,
  };
  const channel: ProcessChannel = {
    send: (m) => deliver(toPrimary, m),
    on: (event, f) => toWorker.on(event, f as Listener),
    off: (event, f) => toWorker.off(event, f as Listener),
  };
  return { worker: worker as unknown as WorkerChannel, channel };
}

stateStoreContract(
  'primary (workers)',
  async () => {
    const host = new PrimaryStateHost();
    const { worker, channel } = ipcPair();
    host.attach(worker);
    return new PrimaryStateClient(channel);
  },
  null,
);
