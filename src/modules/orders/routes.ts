import { createRouter } from '../../http/context.js';

export const orderRoutes = createRouter();
