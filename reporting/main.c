/* The reporting service: statistics of any unit subtree on any day, the official forms as data,
 * alerts, snapshots and exports, read from records' published views. Method table and start. */
#include "kept.h"
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
/* Background work: the monthly snapshots (001 Đ11.5) and the kept counts' warm-up and pruning. */
static int on_serving(void) { return rp_snapshots_start() == 0 && rp_kept_job_start() == 0 ? 0 : -1; }
static void on_stopping(void) {
  rp_kept_job_stop();
  rp_snapshots_stop();
}

static int on_start(db_conn *db) { return rp_read_role_check() == 0 && rp_templates_install(db) == 0 ? 0 : -1; }

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "reporting",
      .schema = "reporting",
      .migrations = reporting_migrations,
      .api = &hoso__reporting__v1__reporting__descriptor,
      SRV_RPCS(rpcs),
      .on_start = on_start,
      .on_serving = on_serving,
      .on_stopping = on_stopping,
      /* snapshots are filed by unit path: they follow the tree's moves and merges */
      .follow_units = &rp_follow_units,
  };
  return srv_main(&cfg, argc, argv);
}
