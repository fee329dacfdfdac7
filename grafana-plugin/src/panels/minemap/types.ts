export type MapMode = 'map' | 'rescue';

export interface MineMapOptions {
  /** Mine code (12 digits); dashboard variables such as $mine are replaced. */
  mineId: string;
  mode: MapMode;
  /** Seconds after which a fix is drawn as stale. */
  staleAfterSeconds: number;
  /** Seconds behind the mine's newest fix after which a card counts as gone up or lost. */
  missingAfterSeconds: number;
}

export const DEFAULT_OPTIONS: MineMapOptions = {
  mineId: '$mine',
  mode: 'map',
  staleAfterSeconds: 120,
  missingAfterSeconds: 900,
};
