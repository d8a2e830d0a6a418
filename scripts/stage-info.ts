/**
 * Prints a stage file's account, region, stack name and stage as shell assignments, for
 * `scripts/deploy.sh`; fails with the settings error when the file is missing or invalid. Every
 * value is checked against a pattern of plain characters (`lib/stages.ts`), so `eval` is safe.
 *   npx tsx scripts/stage-info.ts prod   # STAGE_ACCOUNT=... STAGE_REGION=... STAGE_STACK=... STAGE_NAME=...
 */
import { loadStage } from '../lib/stages.js';

try {
  const stage = loadStage(process.argv[2] ?? '');
  console.log(
    `STAGE_ACCOUNT=${stage.account} STAGE_REGION=${stage.region} STAGE_STACK=${stage.stackName} STAGE_NAME=${stage.name}`,
  );
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
