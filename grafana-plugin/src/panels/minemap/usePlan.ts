import { useEffect, useState } from 'react';
import { getBackendSrv } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import { parsePlan } from '../../geo/plan';
import { MinePlan } from '../../geo/types';
import { APP_ID } from '../../constants';

export interface PlanState {
  plan?: MinePlan;
  loading: boolean;
  error?: string;
  /** Problems the backend found in the plan, one line each. */
  problems?: string[];
}

interface BackendError {
  status?: number;
  data?: { error?: string; problems?: Array<{ feature: number; ref: string; message: string }> };
  message?: string;
}

/** Returns the URL of a mine's plan in the app's resource API. */
export function planUrl(mineId: string): string {
  return `/api/plugins/${APP_ID}/resources/plans/${encodeURIComponent(mineId)}`;
}

/** Loads a mine's plan from the app backend, which validates it. */
export function usePlan(mineId: string): PlanState {
  const valid = /^[0-9]{12}$/.test(mineId);
  const [loaded, setLoaded] = useState<{ mineId: string; state: PlanState } | undefined>();

  useEffect(() => {
    if (!valid) {
      return;
    }
    let cancelled = false;
    lastValueFrom(getBackendSrv().fetch<unknown>({ url: planUrl(mineId), method: 'GET', showErrorAlert: false }))
      .then((resp) => {
        if (!cancelled) {
          setLoaded({ mineId, state: { loading: false, plan: parsePlan(resp.data, mineId) } });
        }
      })
      .catch((e: BackendError | Error) => {
        if (cancelled) {
          return;
        }
        const be = e as BackendError;
        const problems = be.data?.problems?.map((p) =>
          p.feature < 0 ? p.message : `feature ${p.feature} (${p.ref}): ${p.message}`
        );
        const error = be.data?.error ?? (e as Error).message ?? `loading the plan of mine ${mineId} failed`;
        setLoaded({ mineId, state: { loading: false, error, problems } });
      });
    return () => {
      cancelled = true;
    };
  }, [mineId, valid]);

  if (!valid) {
    return { loading: false, error: `Mine "${mineId}" is not a 12-digit mine code: set the panel's Mine option.` };
  }
  return loaded?.mineId === mineId ? loaded.state : { loading: true };
}
