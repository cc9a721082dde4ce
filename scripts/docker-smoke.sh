#!/usr/bin/env bash
# Builds the image and smoke-tests it: the container becomes healthy, and a chat completion goes through the bundled
# example (mock Azure OpenAI backends inside the container). Needs a Docker daemon; exits 0 with a note when none.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "docker-smoke: no Docker daemon here; skipped (test/package/package.test.ts checks the image's files and entry command without one)"
  exit 0
fi
image=apim-emulator:smoke
name=apim-emulator-smoke-$$
docker build -t "$image" .
docker run -d --rm --name "$name" -p 127.0.0.1::8080 "$image" >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
port=$(docker port "$name" 8080/tcp | head -1 | sed 's/.*://')
for _ in $(seq 1 60); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [ "$status" = healthy ] && break
  sleep 1
done
[ "$status" = healthy ] || { echo "docker-smoke: container not healthy ($status)"; docker logs "$name"; exit 1; }
body=$(curl -fsS -X POST "http://127.0.0.1:$port/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21" \
  -H 'content-type: application/json' -H 'api-key: example-key' -d '{"messages":[{"role":"user","content":"Hello"}]}')
echo "$body" | grep -q '"object":"chat.completion"' || { echo "docker-smoke: unexpected answer: $body"; exit 1; }
echo "docker-smoke: image healthy, chat completion through the bundled example OK (port $port)"
