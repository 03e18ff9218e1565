/** Node's log sink: the JSON logger's lines on stdout (src/logger.ts formats them). Node-only. */

/**
 * Log lines go to stdout in one write per event-loop turn instead of one console.log each:
 * under load the write per access line cost more than building it. Lines still pending are
 * written on exit (including after an uncaught exception); only SIGKILL can lose one turn's.
 */
let stdoutSink: ((line: string) => void) | undefined;
export function bufferedStdout(): (line: string) => void {
  if (stdoutSink) return stdoutSink;
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    process.stdout.write(text);
  };
  process.once('exit', flush);
  stdoutSink = (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
  return stdoutSink;
}
