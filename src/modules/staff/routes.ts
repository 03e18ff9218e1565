import { createRouter } from '../../http/context.js';

export const staffRoutes = createRouter();
