import { createRouter } from '../../http/context.js';

export const addressRoutes = createRouter();
