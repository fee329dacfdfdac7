// Bundles the harness page with React and the @grafana packages included
// (in Grafana they are provided by the host), in production mode so React
// runs as it does in Grafana.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'path';
import type { Configuration } from 'webpack';

const root = path.resolve(__dirname, '..', '..');

const config: Configuration = {
  mode: 'production',
  target: 'web',
  entry: path.resolve(__dirname, 'src', 'index.tsx'),
  output: { path: path.resolve(root, 'dist-harness'), filename: 'harness.js', clean: true },
  devtool: false,
  optimization: { minimize: false },
  performance: { hints: false },
  resolve: { extensions: ['.js', '.jsx', '.ts', '.tsx'], modules: [path.resolve(root, 'src'), 'node_modules'] },
  plugins: [new CopyWebpackPlugin({ patterns: [{ from: path.resolve(__dirname, 'index.html') }] })],
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'automatic' } },
            },
          },
        },
      },
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg|woff2?|eot|ttf)$/, type: 'asset/inline' },
    ],
  },
};

export default config;
