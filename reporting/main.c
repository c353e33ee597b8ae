/* The reporting service: statistics of any unit subtree on any day, the official forms as data,
 * alerts, snapshots and exports, read from records' published views. Method table and start. */
#include "reporting.h"

extern const db_migration reporting_migrations[];

static const srv_rpc rpcs[] = {
    SRV_RPC(GetStatistics, rpc_get_statistics),
    SRV_RPC(DrillDown, rpc_drill_down),
    SRV_RPC(ListReportTemplates, rpc_list_report_templates),
    SRV_RPC(GetReportTemplate, rpc_get_report_template),
    SRV_RPC(UpsertReportTemplate, rpc_upsert_report_template),
    SRV_RPC(RunReport, rpc_run_report),
    SRV_RPC(ListAlerts, rpc_list_alerts),
    SRV_RPC(ListSnapshots, rpc_list_snapshots),
    SRV_RPC(CreateSnapshot, rpc_create_snapshot),
    SRV_RPC(ExportSearch, rpc_export_search),
    SRV_RPC(GetComplianceReport, rpc_get_compliance_report),
};

/* Before serving: a read role that could see past row-level security refuses the start; the
 * shipped templates are installed. */
static int on_start(db_conn *db) { return rp_read_role_check() == 0 && rp_templates_install(db) == 0 ? 0 : -1; }

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "reporting",
      .schema = "reporting",
      .migrations = reporting_migrations,
      .api = &hoso__reporting__v1__reporting__descriptor,
      SRV_RPCS(rpcs),
      .on_start = on_start,
      /* the monthly snapshots are taken without anyone asking (001 Đ11.5) */
      .on_serving = rp_snapshots_start,
      .on_stopping = rp_snapshots_stop,
      /* snapshots are filed by unit path: they follow the tree's moves and merges */
      .follow_units = &rp_follow_units,
  };
  return srv_main(&cfg, argc, argv);
}
