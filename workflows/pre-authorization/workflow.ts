import { proxyActivities, sleep } from '@temporalio/workflow';
import type { PreAuthorizationActivities } from '../../activities/pre-authorization';

const { releaseUnusedPreAuthorization } = proxyActivities<PreAuthorizationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['PaymentRejectedError', 'AmountTooLargeError'],
  },
});

/**
 * `pre-authorization:<pa_id>`: the hold placed before a remote start waits for its session until
 * `expiresAt`; if the charge point never started one, the hold goes back to the driver.
 */
export async function preAuthorizationExpiry(input: {
  preAuthorizationId: string;
  expiresAt: string;
}): Promise<boolean> {
  await sleep(Math.max(0, Date.parse(input.expiresAt) - Date.now()));
  return releaseUnusedPreAuthorization(input.preAuthorizationId);
}
