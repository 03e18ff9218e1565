import { createRouter } from '../../http/context.js';

export const schedulingRoutes = createRouter();
