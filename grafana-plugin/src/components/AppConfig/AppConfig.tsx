import React, { ChangeEvent, useState } from 'react';
import { lastValueFrom } from 'rxjs';
import { css } from '@emotion/css';
import { AppPluginMeta, GrafanaTheme2, PluginConfigPageProps, PluginMeta } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet, Input, TextArea, useStyles2 } from '@grafana/ui';

/** The app's jsonData; the backend reads the same keys. */
export type AppSettings = {
  plansFolder?: string;
  plansUrl?: string;
  dxfLayers?: Array<{ layer: string; kind: string; area_type?: string; area_code?: string }>;
};

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<AppSettings>> {}

const AppConfig = ({ plugin }: AppConfigProps) => {
  const s = useStyles2(getStyles);
  const { enabled, pinned, jsonData } = plugin.meta;
  const [plansFolder, setPlansFolder] = useState(jsonData?.plansFolder ?? '');
  const [plansUrl, setPlansUrl] = useState(jsonData?.plansUrl ?? '');
  const [layers, setLayers] = useState(jsonData?.dxfLayers ? JSON.stringify(jsonData.dxfLayers, null, 2) : '');
  const [error, setError] = useState<string | undefined>();

  const onSubmit = async (e: React.FormEvent) => {
    e.preventDefault();
    let dxfLayers: AppSettings['dxfLayers'];
    if (layers.trim()) {
      try {
        dxfLayers = JSON.parse(layers);
      } catch (err) {
        setError(`DXF layer rules are not valid JSON: ${(err as Error).message}`);
        return;
      }
    }
    try {
      await updatePlugin(plugin.meta.id, {
        enabled,
        pinned,
        jsonData: { plansFolder: plansFolder.trim(), plansUrl: plansUrl.trim(), dxfLayers },
      });
      // Grafana keeps the plugin's settings in memory; a reload picks them up.
      window.location.reload();
    } catch (err: any) {
      setError(err?.data?.message ?? err?.message ?? 'saving the settings failed');
    }
  };

  return (
    <form onSubmit={onSubmit}>
      <FieldSet label="Mine plans">
        <Field label="Plans folder" description="Folder on the Grafana server with one <mine code>.geojson per mine">
          <Input
            width={60}
            id="config-plans-folder"
            value={plansFolder}
            placeholder="/var/lib/grafana/minewatch/plans"
            onChange={(e: ChangeEvent<HTMLInputElement>) => setPlansFolder(e.target.value)}
          />
        </Field>
        <Field
          label="Plans URL"
          description="Fetched for mines without a file in the folder; {mine_id} is replaced by the mine code"
          className={s.marginTop}
        >
          <Input
            width={60}
            id="config-plans-url"
            value={plansUrl}
            placeholder="https://gis.example/plans/{mine_id}.geojson"
            onChange={(e: ChangeEvent<HTMLInputElement>) => setPlansUrl(e.target.value)}
          />
        </Field>
        <Field
          label="DXF layer rules"
          description='JSON list of {"layer": "TUNNEL*", "kind": "tunnel"} and {"layer": "AREA_KEY_*", "kind": "area", "area_type": "key"}; empty uses the defaults'
          className={s.marginTop}
        >
          <TextArea rows={6} value={layers} onChange={(e) => setLayers(e.currentTarget.value)} />
        </Field>
        {error && <Alert title="Settings">{error}</Alert>}
        <div className={s.marginTop}>
          <Button type="submit">Save settings</Button>
        </div>
      </FieldSet>
    </form>
  );
};

export default AppConfig;

const getStyles = (theme: GrafanaTheme2) => ({
  marginTop: css`
    margin-top: ${theme.spacing(3)};
  `,
});

const updatePlugin = async (pluginId: string, data: Partial<PluginMeta>) => {
  const response = getBackendSrv().fetch({
    url: `/api/plugins/${pluginId}/settings`,
    method: 'POST',
    data,
  });
  return lastValueFrom(response);
};
