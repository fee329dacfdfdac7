import React, { useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { PluginPage, getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Field, Input, useStyles2 } from '@grafana/ui';
import { lastValueFrom } from 'rxjs';
import { RESOURCES_URL } from '../constants';
import { downloadText } from '../panels/minemap/components/RescueTable';
import { usePlanList } from './usePlanList';

interface ImportResult {
  geojson: unknown;
  tunnels: number;
  areas: number;
  skipped_layers: string[] | null;
  skipped_entries: number;
  warnings: string[] | null;
}

/**
 * App page: the plans in the provisioned folder with their validation
 * result, and the import of a DXF drawing into a plan to save there.
 */
function PlansPage() {
  const styles = useStyles2(getStyles);
  const { plans, error, reload } = usePlanList();
  const [mineId, setMineId] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [result, setResult] = useState<ImportResult | undefined>();
  const [importError, setImportError] = useState<string | undefined>();

  const runImport = async () => {
    if (!file) {
      return;
    }
    setResult(undefined);
    setImportError(undefined);
    try {
      const resp = await lastValueFrom(
        getBackendSrv().fetch<ImportResult>({
          url: `${RESOURCES_URL}/plans/${encodeURIComponent(mineId)}/import-dxf`,
          method: 'POST',
          data: await file.text(),
          headers: { 'Content-Type': 'application/dxf' },
          showErrorAlert: false,
        })
      );
      setResult(resp.data);
    } catch (e: any) {
      setImportError(e?.data?.error ?? e?.message ?? 'DXF import failed');
    }
  };

  return (
    <PluginPage>
      <h3>Mine plans</h3>
      {error && <Alert title="Plans folder">{error}</Alert>}
      <table className={styles.table}>
        <thead>
          <tr>
            <th>Mine</th>
            <th>File</th>
            <th>Tunnels</th>
            <th>Areas</th>
            <th>Stations</th>
            <th>Validation</th>
          </tr>
        </thead>
        <tbody>
          {plans.map((p) => (
            <tr key={p.file}>
              <td>{p.mine_id}</td>
              <td>{p.file}</td>
              <td>{p.tunnels}</td>
              <td>{p.areas}</td>
              <td>{p.stations}</td>
              <td className={p.error ? styles.bad : undefined}>{p.error ?? 'valid'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Button variant="secondary" icon="sync" onClick={reload}>
        Reload
      </Button>

      <h3 className={styles.section}>Import a DXF drawing</h3>
      <p>
        Polylines (LWPOLYLINE, POLYLINE) in mine-grid metres become tunnels and areas by layer name, as set in the app
        settings (default: TUNNEL*, AREA_KEY_&lt;area code&gt;, AREA_RESTRICTED_&lt;area code&gt;, …). Save the result
        as &lt;mine code&gt;.geojson in the plans folder.
      </p>
      <Field label="Mine code">
        <Input width={24} value={mineId} onChange={(e) => setMineId(e.currentTarget.value.trim())} />
      </Field>
      <Field label="ASCII DXF file">
        <input type="file" accept=".dxf" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
      </Field>
      <Button onClick={runImport} disabled={!file || !/^[0-9]{12}$/.test(mineId)}>
        Import
      </Button>
      {importError && <Alert title="DXF import failed">{importError}</Alert>}
      {result && (
        <div className={styles.section}>
          <p>
            {result.tunnels} tunnels and {result.areas} areas imported.
            {result.skipped_entries > 0 &&
              ` ${result.skipped_entries} polylines on unmapped layers skipped: ${(result.skipped_layers ?? []).join(', ')}.`}
          </p>
          {(result.warnings ?? []).map((w) => (
            <Alert key={w} severity="warning" title="Warning">
              {w}
            </Alert>
          ))}
          <Button
            icon="download-alt"
            onClick={() =>
              downloadText(`${mineId}.geojson`, JSON.stringify(result.geojson, null, 1), 'application/geo+json')
            }
          >
            Download {mineId}.geojson
          </Button>
        </div>
      )}
    </PluginPage>
  );
}

export default PlansPage;

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    marginBottom: theme.spacing(2),
    'th, td': { padding: theme.spacing(0.5, 1), borderBottom: `1px solid ${theme.colors.border.weak}` },
  }),
  bad: css({ color: theme.colors.error.text }),
  section: css({ marginTop: theme.spacing(3) }),
});
