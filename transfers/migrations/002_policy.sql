-- The province's allowances as data (SPEC §3, REFERENCE §2): one rule per step kind (StepKind of
-- transfers.proto) — calendar or working days (AllowanceUnit: 1 none, 2 calendar days, 3 working
-- days), counted from the decision's effective date or from the previous step (CountFrom: 1, 2),
-- and for calendar days whether a last day off moves to the next working day (BLDS 2015 Đ148.5).
-- The five seeds are presets; the deployment's policy is a copy the system administrator
-- chooses and may edit (SetPolicy). A step kind without a rule has no deadline.
CREATE TABLE policy_presets (
  id    text PRIMARY KEY,
  name  text NOT NULL,
  ord   smallint NOT NULL,
  secondment_alert_days smallint NOT NULL DEFAULT 5
);

CREATE TABLE policy_preset_rules (
  preset_id  text NOT NULL REFERENCES policy_presets(id),
  step       smallint NOT NULL CHECK (step BETWEEN 1 AND 11),
  unit       smallint NOT NULL CHECK (unit IN (1, 2, 3)),
  days       smallint NOT NULL CHECK (days BETWEEN 0 AND 365),
  count_from smallint NOT NULL CHECK (count_from IN (1, 2)),
  roll       boolean NOT NULL DEFAULT true,
  basis      text NOT NULL DEFAULT '',
  PRIMARY KEY (preset_id, step)
);

-- The deployment's policy: one row, and its rules.
CREATE TABLE policy (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  preset_id   text NOT NULL,           -- the preset it was taken from, or 'custom'
  name        text NOT NULL,
  secondment_alert_days smallint NOT NULL DEFAULT 5 CHECK (secondment_alert_days BETWEEN 0 AND 60),
  version     bigint NOT NULL DEFAULT 1,
  updated_by  text NOT NULL DEFAULT '',
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE policy_rules (
  step       smallint PRIMARY KEY CHECK (step BETWEEN 1 AND 11),
  unit       smallint NOT NULL CHECK (unit IN (1, 2, 3)),
  days       smallint NOT NULL CHECK (days BETWEEN 0 AND 365),
  count_from smallint NOT NULL CHECK (count_from IN (1, 2)),
  roll       boolean NOT NULL DEFAULT true,
  basis      text NOT NULL DEFAULT ''
);

INSERT INTO policy_presets (id, name, ord) VALUES
  ('000-muong-khuong', 'Huyện Mường Khương (QĐ 01/2012/QĐ-UBND)', 0),
  ('001-dak-lak', 'Tỉnh Đắk Lắk (QĐ 30/2019/QĐ-UBND)', 1),
  ('002-binh-tan', 'Quận Bình Tân (QĐ 04/2013/QĐ-UBND)', 2),
  ('003-ha-noi', 'Thành phố Hà Nội', 3),
  ('004-bac-giang', 'Tỉnh Bắc Giang (Quy chế 2022)', 4);

-- steps: 1 NEW_RECORD 2 STATE_UPDATE 3 VERIFY_DECLARATION 4 LEAVING 5 MOVE_INSIDE 6 SEND
--        7 RECEIVE 8 FORWARD 9 SEND_OUT 10 ANSWER_REQUEST (11 SECONDMENT_END: its end date)
INSERT INTO policy_preset_rules (preset_id, step, unit, days, count_from, basis) VALUES
  ('000-muong-khuong', 1, 2, 15, 1, '000 Đ8.1b'),
  ('000-muong-khuong', 2, 2, 15, 1, '000 Đ8.2a'),
  ('000-muong-khuong', 6, 2, 5, 1, '000 Đ9.1, Đ9.2'),
  ('000-muong-khuong', 7, 2, 15, 1, '000 Đ9.2'),
  ('000-muong-khuong', 8, 2, 15, 1, '000 Đ9.2'),
  ('000-muong-khuong', 9, 2, 15, 1, '000 Đ9.3'),
  ('001-dak-lak', 1, 3, 15, 1, '001 Đ9.1b–d (10 + 2 + 3 ngày làm việc)'),
  ('001-dak-lak', 2, 3, 3, 1, '001 Đ9.2b'),
  ('001-dak-lak', 3, 3, 1, 2, '001 Đ9.2a'),
  ('001-dak-lak', 4, 3, 5, 1, '001 Đ10.3'),
  ('001-dak-lak', 5, 3, 2, 1, '001 Đ10.1'),
  ('001-dak-lak', 6, 3, 5, 1, '001 Đ10.2'),
  ('001-dak-lak', 7, 3, 3, 2, '001 Đ10.2 (SPEC §3)'),
  ('001-dak-lak', 8, 3, 3, 2, '001 Đ10.2'),
  ('001-dak-lak', 9, 3, 5, 1, '001 Đ10.3'),
  ('002-binh-tan', 1, 2, 60, 1, '002 Đ9.1'),
  ('002-binh-tan', 2, 2, 15, 1, '002 Đ9.2a'),
  ('002-binh-tan', 6, 2, 5, 1, 'SPEC §3 (003 Đ7.3); 002 Đ10: on written request'),
  ('003-ha-noi', 1, 2, 60, 1, '003 Đ7.1b'),
  ('003-ha-noi', 2, 2, 15, 1, '003 Đ7.2a'),
  ('003-ha-noi', 6, 2, 5, 1, '003 Đ7.3'),
  ('004-bac-giang', 1, 3, 10, 1, '004 Đ8.1'),
  ('004-bac-giang', 2, 2, 10, 1, '004 Đ8.2a'),
  ('004-bac-giang', 4, 3, 10, 1, '004 Đ9.3'),
  ('004-bac-giang', 6, 3, 10, 1, '004 Đ9.1'),
  ('004-bac-giang', 7, 3, 10, 2, '004 Đ9.1'),
  ('004-bac-giang', 8, 3, 10, 2, 'SPEC §3'),
  ('004-bac-giang', 9, 3, 10, 1, '004 Đ9.2');

-- A new deployment starts with Bắc Giang's rules (the demo province); the system administrator
-- picks the province's own with SetPolicy.
INSERT INTO policy (preset_id, name, updated_by)
  SELECT id, name, 'migration' FROM policy_presets WHERE id = '004-bac-giang';
INSERT INTO policy_rules (step, unit, days, count_from, roll, basis)
  SELECT step, unit, days, count_from, roll, basis FROM policy_preset_rules WHERE preset_id = '004-bac-giang';
