/** Runs the cleanup once on SIGINT/SIGTERM; a second signal forces the exit. */
export function onShutdown(cleanup: () => unknown): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    Promise.resolve()
      .then(cleanup)
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
