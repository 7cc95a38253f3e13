import { proxyActivities } from '@temporalio/workflow';
import type { SessionPaymentActivities } from '../../activities/session-payments';

const { releaseStrayHolds } = proxyActivities<SessionPaymentActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** `hold-sweep`, every 15 minutes from its schedule: releases holds that outlived their session. */
export async function holdSweep(input: { olderThanMs?: number } = {}): Promise<number> {
  return releaseStrayHolds(input);
}
