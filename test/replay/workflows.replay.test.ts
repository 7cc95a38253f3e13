import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

// Histories recorded from earlier versions of the workflow code. Today's code must replay each one without
// a nondeterminism error; a change that cannot must be guarded with patched().
const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of recorded workflow histories', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('replays %s with the current workflow code', async (file) => {
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../workflows') },
      history,
      `replay-${path.basename(file, '.json')}`,
    );
  });
});
