/* The application's shell: the login and password screens until a session is ready, then the
 * side menu by role (Ant Design Pro's layout), the header with the user and logout, and the
 * routes, reports among them. */
import {
  AuditOutlined, FileSearchOutlined, HomeOutlined, IdcardOutlined, LogoutOutlined, ApartmentOutlined,
  TeamOutlined, FormOutlined, SwapOutlined, FieldTimeOutlined, ImportOutlined, DatabaseOutlined, ScheduleOutlined,
  CalendarOutlined, ApiOutlined, BarChartOutlined, FileExcelOutlined, BellOutlined, SafetyCertificateOutlined, CameraOutlined, ProfileOutlined,
  MenuOutlined,
} from '@ant-design/icons';
import { Button, Layout, Menu, Result, Spin } from 'antd';
import { useState, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { vi } from './i18n/vi';
import { AccountsPage } from './pages/accounts/AccountsPage';
import { ChangeRequestsPage } from './pages/changes/ChangeRequestsPage';
import { DossierPage } from './pages/dossier/DossierPage';
import { HomePage } from './pages/home/HomePage';
import { ChangePasswordPage } from './pages/login/ChangePasswordPage';
import { LoginPage } from './pages/login/LoginPage';
import { PrintPage } from './pages/dossier/PrintPage';
import { RecordEditPage } from './pages/dossier/RecordEditPage';
import { RecordsPage } from './pages/records/RecordsPage';
import { MyRecordPage } from './pages/self/MyRecordPage';
import { UnitsPage } from './pages/units/UnitsPage';
import { CatalogsPage } from './pages/catalogs/CatalogsPage';
import { ServiceClientsPage } from './pages/clients/ServiceClientsPage';
import { ImportPage } from './pages/imports/ImportPage';
import { CalendarPage } from './pages/settings/CalendarPage';
import { PolicyPage } from './pages/settings/PolicyPage';
import { DeadlinesPage } from './pages/transfers/DeadlinesPage';
import { RequestTransferPage, StartTransferPage } from './pages/transfers/StartTransferPage';
import { TransferPage } from './pages/transfers/TransferPage';
import { TransfersPage } from './pages/transfers/TransfersPage';
import { AlertsPage } from './pages/reports/AlertsPage';
import { CompliancePage } from './pages/reports/CompliancePage';
import { SnapshotsPage } from './pages/reports/SnapshotsPage';
import { TemplatesPage } from './pages/reports/TemplatesPage';
import { OfficialReportPage } from './pages/reports/OfficialReportPage';
import { StatisticsPage } from './pages/reports/StatisticsPage';
import { useSession } from './session';

type MenuEntry = { key: string; icon: ReactNode; label: ReactNode; children?: undefined } | { key: string; type: 'group'; label: ReactNode; children: MenuEntry[] };

function menuItems(r: ReturnType<typeof useSession>['rights']) {
  const items: MenuEntry[] = [
    { key: '/', icon: <HomeOutlined />, label: <Link to="/">{vi.menu.home}</Link> },
  ];
  if (r.read) items.push({ key: '/records', icon: <FileSearchOutlined />, label: <Link to="/records">{vi.menu.records}</Link> });
  if (r.read) items.push({ key: '/transfers', icon: <SwapOutlined />, label: <Link to="/transfers">{vi.menu.transfers}</Link> });
  if (r.read) items.push({ key: '/deadlines', icon: <FieldTimeOutlined />, label: <Link to="/deadlines">{vi.menu.deadlines}</Link> });
  if (r.update) items.push({ key: '/import', icon: <ImportOutlined />, label: <Link to="/import">{vi.menu.imports}</Link> });
  if (r.approve) items.push({ key: '/change-requests', icon: <AuditOutlined />, label: <Link to="/change-requests">{vi.menu.changeRequests}</Link> });
  if (r.read || r.manageAccounts) items.push({ key: '/units', icon: <ApartmentOutlined />, label: <Link to="/units">{vi.menu.units}</Link> });
  if (r.manageAccounts) items.push({ key: '/accounts', icon: <TeamOutlined />, label: <Link to="/accounts">{vi.menu.accounts}</Link> });
  if (r.read)
    items.push({ key: 'reports', type: 'group', label: vi.menu.reports, children: [
      { key: '/reports/statistics', icon: <BarChartOutlined />, label: <Link to="/reports/statistics">{vi.menu.statistics}</Link> },
      { key: '/reports/forms', icon: <FileExcelOutlined />, label: <Link to="/reports/forms">{vi.menu.officialReports}</Link> },
      { key: '/reports/alerts', icon: <BellOutlined />, label: <Link to="/reports/alerts">{vi.menu.alerts}</Link> },
      { key: '/reports/compliance', icon: <SafetyCertificateOutlined />, label: <Link to="/reports/compliance">{vi.menu.compliance}</Link> },
      { key: '/reports/snapshots', icon: <CameraOutlined />, label: <Link to="/reports/snapshots">{vi.menu.snapshots}</Link> },
      { key: '/reports/templates', icon: <ProfileOutlined />, label: <Link to="/reports/templates">{vi.menu.templates}</Link> },
    ] });
  if (r.self) {
    items.push({ key: '/me', icon: <IdcardOutlined />, label: <Link to="/me">{vi.menu.myRecord}</Link> });
    items.push({ key: '/me/declare', icon: <FormOutlined />, label: <Link to="/me/declare">{vi.cr.title}</Link> });
  }
  if (r.manageUnits)
    items.push({ key: 'admin', type: 'group', label: vi.menu.admin, children: [
      { key: '/catalogs', icon: <DatabaseOutlined />, label: <Link to="/catalogs">{vi.menu.catalogs}</Link> },
      { key: '/settings/policy', icon: <ScheduleOutlined />, label: <Link to="/settings/policy">{vi.menu.policy}</Link> },
      { key: '/settings/calendar', icon: <CalendarOutlined />, label: <Link to="/settings/calendar">{vi.menu.calendar}</Link> },
      { key: '/service-clients', icon: <ApiOutlined />, label: <Link to="/service-clients">{vi.menu.clients}</Link> },
    ] });
  return items;
}

function Shell() {
  const s = useSession();
  const loc = useLocation();
  const items = menuItems(s.rights);
  // Below the lg breakpoint (a tablet held upright) the menu folds away and, opened, lies over
  // the page instead of narrowing it; choosing an entry folds it again.
  const [narrow, setNarrow] = useState(false);
  const [collapsed, setCollapsed] = useState(false);
  const selected = items
    .flatMap((i) => (i.children ? i.children.map((c) => c.key) : [i.key]))
    .filter((k) => (k === '/' ? loc.pathname === '/' : loc.pathname.startsWith(k)))
    .sort((a, b) => b.length - a.length)[0];
  return (
    <Layout className="hoso-shell">
      <Layout.Header className="hoso-header">
        {/* Folded away on a narrow screen, the menu opens from here: Ant Design's own trigger
            would sit over the page's heading and is not reachable with the keyboard. */}
        {narrow && (
          <Button className="hoso-menu-button" icon={<MenuOutlined />} aria-label={vi.app.menuButton}
            aria-expanded={!collapsed} aria-controls="hoso-menu" onClick={() => setCollapsed(!collapsed)} />
        )}
        <span className="hoso-brand">{vi.app.name} · {vi.app.full}</span>
        <span className="hoso-user">
          <span data-testid="who">{s.account?.fullName || s.account?.username}</span>
          <Button size="small" icon={<LogoutOutlined />} onClick={() => void s.logout()}>
            {vi.session.logout}
          </Button>
        </span>
      </Layout.Header>
      <Layout>
        <Layout.Sider width={230} theme="light" breakpoint="lg" collapsedWidth={0} collapsed={collapsed} onCollapse={setCollapsed}
          onBreakpoint={(b) => { setNarrow(b); setCollapsed(b); }} className={narrow ? 'hoso-sider-over' : undefined}
          trigger={null} id="hoso-menu">
          <Menu mode="inline" selectedKeys={selected ? [selected] : []} items={items} aria-label="Menu" onClick={() => narrow && setCollapsed(true)} />
        </Layout.Sider>
        <Layout.Content>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/records" element={<RecordsPage />} />
            <Route path="/records/new" element={<RecordEditPage />} />
            <Route path="/records/:id" element={<DossierPage />} />
            <Route path="/records/:id/edit" element={<RecordEditPage />} />
            <Route path="/records/:id/print" element={<PrintPage />} />
            <Route path="/change-requests" element={<ChangeRequestsPage />} />
            <Route path="/transfers" element={<TransfersPage />} />
            <Route path="/transfers/new" element={<StartTransferPage />} />
            <Route path="/transfers/request" element={<RequestTransferPage />} />
            <Route path="/transfers/:id" element={<TransferPage />} />
            <Route path="/deadlines" element={<DeadlinesPage />} />
            <Route path="/import" element={<ImportPage />} />
            <Route path="/reports/statistics" element={<StatisticsPage />} />
            <Route path="/reports/forms" element={<OfficialReportPage />} />
            <Route path="/reports/alerts" element={<AlertsPage />} />
            <Route path="/reports/compliance" element={<CompliancePage />} />
            <Route path="/reports/snapshots" element={<SnapshotsPage />} />
            <Route path="/reports/templates" element={<TemplatesPage />} />
            <Route path="/catalogs" element={<CatalogsPage />} />
            <Route path="/settings/policy" element={<PolicyPage />} />
            <Route path="/settings/calendar" element={<CalendarPage />} />
            <Route path="/service-clients" element={<ServiceClientsPage />} />
            <Route path="/units" element={<UnitsPage />} />
            <Route path="/units/:id" element={<UnitsPage />} />
            <Route path="/accounts" element={<AccountsPage />} />
            <Route path="/me" element={<MyRecordPage />} />
            <Route path="/me/declare" element={<MyRecordPage declare />} />
            <Route path="/password" element={<ChangePasswordPage />} />
            <Route path="/login" element={<Navigate to="/" replace />} />
            <Route path="*" element={<Result status="404" title="404" subTitle="Không có trang này." />} />
          </Routes>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export function App() {
  const s = useSession();
  if (s.state === 'loading')
    return (
      <div className="hoso-login">
        <Spin size="large" tip={vi.common.loading}>
          <div style={{ width: 200, height: 80 }} />
        </Spin>
      </div>
    );
  if (s.state === 'anonymous') return <LoginPage />;
  if (s.state === 'mustChange') return <ChangePasswordPage forced />;
  return <Shell />;
}
