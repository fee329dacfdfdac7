import { useEffect, useState } from 'react';
import { getBackendSrv } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import { RESOURCES_URL } from '../constants';

export interface PlanEntry {
  mine_id: string;
  file: string;
  tunnels: number;
  areas: number;
  stations: number;
  error?: string;
}

/** Loads the plans folder listing, with each plan's validation result. */
export function usePlanList(): { plans: PlanEntry[]; error?: string; reload: () => void } {
  const [plans, setPlans] = useState<PlanEntry[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    lastValueFrom(
      getBackendSrv().fetch<{ plans: PlanEntry[] }>({ url: `${RESOURCES_URL}/plans`, showErrorAlert: false })
    )
      .then((r) => {
        setPlans(r.data.plans);
        setError(undefined);
      })
      .catch((e) => setError(e?.data?.error ?? e?.message ?? 'listing the mine plans failed'));
  }, [generation]);

  return { plans, error, reload: () => setGeneration((g) => g + 1) };
}
