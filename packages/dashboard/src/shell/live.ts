/**
 * @module Server-sent events read over fetch (not EventSource, which only delivers event names it is told in
 * advance): every event is handed on with its name; a dropped stream is opened again after a pause, sending
 * Last-Event-ID, until closed. The format is the WHATWG HTML "Server-sent events" one.
 */

/** Parses SSE text; feeds complete events to `emit`, returns the unfinished tail. */
export function parseSse(buffer: string, emit: (event: string, data: string, id: string | undefined) => void): string {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const tail = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length > 0) emit(event, data.join('\n'), id);
  }
  return tail;
}

/** Opens `path`; returns what closes it. `onData` gets JSON-parsed data (the raw text if it is not JSON). */
export function openLive(path: string, onData: (data: unknown, event: string) => void, retryMs = 2000): () => void {
  const abort = new AbortController();
  let lastId: string | undefined;
  let closed = false;
  const run = async (): Promise<void> => {
    while (!closed) {
      try {
        const r = await fetch(path, {
          credentials: 'same-origin',
          headers: { accept: 'text/event-stream', ...(lastId !== undefined && { 'last-event-id': lastId }) },
          signal: abort.signal,
        });
        // Refused (logged out, no such stream): trying again would not help.
        if (r.status >= 400 && r.status < 500 && r.status !== 429) return;
        if (r.ok && r.body !== null) {
          const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf = parseSse(buf + value, (event, data, id) => {
              if (id !== undefined) lastId = id;
              let parsed: unknown = data;
              try {
                parsed = JSON.parse(data);
              } catch {
                // not JSON: handed on as text
              }
              onData(parsed, event);
            });
          }
        }
      } catch {
        if (closed) return;
      }
      await new Promise((res) => setTimeout(res, retryMs));
    }
  };
  void run();
  return () => {
    closed = true;
    abort.abort();
  };
}
