import pluginJson from './plugin.json';

/** Id of the app plugin, whose backend serves the mine plans. */
export const APP_ID = pluginJson.id;

export const PLUGIN_BASE_URL = `/a/${pluginJson.id}`;

export enum ROUTES {
  Rescue = 'rescue',
  Plans = 'plans',
}

/** Resource API of the app backend, proxied by Grafana. */
export const RESOURCES_URL = `/api/plugins/${pluginJson.id}/resources`;
