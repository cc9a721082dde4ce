import type { CompileContext, XmlElement } from '../../engine/policy-sdk.js';
import { firstReport } from './once.js';

/**
 * A policy APIM accepts whose effect leaves the gateway for a service that does not exist offline (Service Bus, Dapr,
 * an HTTP proxy...): `validate` says so with one warning per element (the file is valid APIM), and `serve` runs the
 * documented offline behaviour named in `what` (docs/emulator-choices.md, "Policies that run offline").
 */
export function offlineWarning(el: XmlElement, cx: CompileContext, what: string): void {
  if (!firstReport(el, 'offline')) return;
  cx.diagnostics.warning(
    el.source,
    el.start,
    'policy/offline',
    `<${el.name}> runs offline: ${what}`,
    'see docs/emulator-choices.md (Policies that run offline) for what apim-emulator does with it',
  );
}
