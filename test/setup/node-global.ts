import type { TestProject } from 'vitest/node';
import { startStripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { recreateServerDatabase } from './databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set when TEST_DATABASE_URL is: the Node suite's own database on that server. */
    nodeDatabaseUrl: string | null;
    /** The Stripe stand-in every Node test app is configured with. */
    stripeUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = process.env.TEST_DATABASE_URL;
  project.provide('nodeDatabaseUrl', server ? await recreateServerDatabase(server, 'laundry_test_node') : null);
  const stripe = await startStripeStandIn({ unref: true });
  project.provide('stripeUrl', stripe.url);
  return () => stripe.close();
}
