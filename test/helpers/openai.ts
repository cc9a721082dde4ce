/** Reads a streamed chat completion from the official `openai` client: chunk count, joined text, final usage. */
export async function readChatStream(
  stream: AsyncIterable<{ choices: Array<{ delta: { content?: string | null } }>; usage?: { total_tokens: number } | null }>,
): Promise<{ chunks: number; text: string; totalTokens: number | undefined }> {
  let chunks = 0;
  let text = '';
  let totalTokens: number | undefined;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) totalTokens = chunk.usage.total_tokens;
  }
  return { chunks, text, totalTokens };
}
