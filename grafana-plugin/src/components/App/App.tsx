import React from 'react';
import { Route, Routes } from 'react-router-dom';
import { AppRootProps } from '@grafana/data';
import { ROUTES } from '../../constants';

const RescuePage = React.lazy(() => import('../../pages/RescuePage'));
const PlansPage = React.lazy(() => import('../../pages/PlansPage'));

function App(_props: AppRootProps) {
  return (
    <Routes>
      <Route path={ROUTES.Plans} element={<PlansPage />} />
      <Route path="*" element={<RescuePage />} />
    </Routes>
  );
}

export default App;
