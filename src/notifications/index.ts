/** The public surface of src/notifications: other folders import from here, never from its files. */

export { notificationsRoutes } from './notifications.routes.js'
export { notificationsService } from './notifications.service.js'
