import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

// The scaffolded config copies only the app's own logos; the nested panel's
// logo sits in its own img folder.
const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  base.plugins = [...(base.plugins ?? []), new CopyWebpackPlugin({ patterns: [{ from: 'panels/*/img/*', to: '.' }] })];
  return base;
};

export default config;
