import { PanelPlugin } from '@grafana/data';
import { MineMapPanel } from './components/MineMapPanel';
import { DEFAULT_OPTIONS, MineMapOptions } from './types';

export const plugin = new PanelPlugin<MineMapOptions>(MineMapPanel).setPanelOptions((builder) =>
  builder
    .addTextInput({
      path: 'mineId',
      name: 'Mine',
      description: '12-digit mine code, or a dashboard variable such as $mine',
      defaultValue: DEFAULT_OPTIONS.mineId,
    })
    .addRadio({
      path: 'mode',
      name: 'View',
      defaultValue: DEFAULT_OPTIONS.mode,
      settings: {
        options: [
          { value: 'map', label: 'Map' },
          { value: 'rescue', label: 'Rescue list' },
        ],
      },
    })
    .addNumberInput({
      path: 'staleAfterSeconds',
      name: 'Stale after (s)',
      description: 'A card whose last fix is older is drawn as a hollow grey ring',
      defaultValue: DEFAULT_OPTIONS.staleAfterSeconds,
    })
    .addNumberInput({
      path: 'missingAfterSeconds',
      name: 'Gone after (s)',
      description:
        'A card this far behind the mine’s newest fix has come up or lost contact: hidden from the map and, unless asked, the rescue list',
      defaultValue: DEFAULT_OPTIONS.missingAfterSeconds,
    })
);
