-- The working-day calendar as data per year (REFERENCE §1; common/workdays.h does the
-- arithmetic): each year's weekly rest days, the weekdays off (holidays, compensatory days, the
-- weekday of a swap) and the rest days worked (làm bù). A year not entered counts Saturday and
-- Sunday only, and every date computed across it is marked estimated. No unit column: the
-- calendar is the deployment's; only the system administrator changes it (SetCalendarYear).
CREATE TABLE calendar_years (
  year       smallint PRIMARY KEY CHECK (year BETWEEN 1900 AND 2200),
  weekend    smallint[] NOT NULL DEFAULT '{6,7}',  -- ISO weekdays: 1 Monday .. 7 Sunday
  updated_by text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calendar_days (
  day   date PRIMARY KEY,
  year  smallint NOT NULL REFERENCES calendar_years(year),
  kind  smallint NOT NULL CHECK (kind IN (1, 2)),  -- 1 a weekday off, 2 a rest day worked
  name  text NOT NULL DEFAULT '',
  CHECK (extract(year FROM day) = year)
);
CREATE INDEX calendar_days_year ON calendar_days (year);

-- Bumped by every change of the calendar or the policy: a process's cached copy of both is
-- good while this number is the one it loaded (read in the transaction that uses them).
CREATE TABLE settings_version (
  id      boolean PRIMARY KEY DEFAULT true CHECK (id),
  version bigint NOT NULL DEFAULT 1
);
INSERT INTO settings_version DEFAULT VALUES;

-- 2024–2026 as the government announced them for state employees (REFERENCE §1). 2026's day
-- beside 2 September was not announced yet: the administrator adds it.
INSERT INTO calendar_years (year, updated_by) VALUES (2024, 'migration'), (2025, 'migration'), (2026, 'migration');
INSERT INTO calendar_days (day, year, kind, name) VALUES
  ('2024-01-01', 2024, 1, 'Tết Dương lịch'),
  ('2024-02-08', 2024, 1, 'Tết Nguyên đán'),
  ('2024-02-09', 2024, 1, 'Tết Nguyên đán'),
  ('2024-02-12', 2024, 1, 'Tết Nguyên đán'),
  ('2024-02-13', 2024, 1, 'Tết Nguyên đán'),
  ('2024-02-14', 2024, 1, 'Tết Nguyên đán'),
  ('2024-04-18', 2024, 1, 'Giỗ Tổ Hùng Vương'),
  ('2024-04-29', 2024, 1, 'Nghỉ hoán đổi (làm bù thứ Bảy 04/5)'),
  ('2024-04-30', 2024, 1, 'Ngày Chiến thắng'),
  ('2024-05-01', 2024, 1, 'Quốc tế Lao động'),
  ('2024-05-04', 2024, 2, 'Làm bù cho ngày 29/4'),
  ('2024-09-02', 2024, 1, 'Quốc khánh'),
  ('2024-09-03', 2024, 1, 'Quốc khánh'),
  ('2025-01-01', 2025, 1, 'Tết Dương lịch'),
  ('2025-01-27', 2025, 1, 'Tết Nguyên đán'),
  ('2025-01-28', 2025, 1, 'Tết Nguyên đán'),
  ('2025-01-29', 2025, 1, 'Tết Nguyên đán'),
  ('2025-01-30', 2025, 1, 'Tết Nguyên đán'),
  ('2025-01-31', 2025, 1, 'Tết Nguyên đán'),
  ('2025-04-07', 2025, 1, 'Giỗ Tổ Hùng Vương'),
  ('2025-04-26', 2025, 2, 'Làm bù cho ngày 02/5'),
  ('2025-04-30', 2025, 1, 'Ngày Chiến thắng'),
  ('2025-05-01', 2025, 1, 'Quốc tế Lao động'),
  ('2025-05-02', 2025, 1, 'Nghỉ hoán đổi (làm bù thứ Bảy 26/4)'),
  ('2025-09-01', 2025, 1, 'Quốc khánh'),
  ('2025-09-02', 2025, 1, 'Quốc khánh'),
  ('2026-01-01', 2026, 1, 'Tết Dương lịch'),
  ('2026-01-02', 2026, 1, 'Nghỉ hoán đổi (làm bù thứ Bảy 10/01)'),
  ('2026-01-10', 2026, 2, 'Làm bù cho ngày 02/01'),
  ('2026-02-16', 2026, 1, 'Tết Nguyên đán'),
  ('2026-02-17', 2026, 1, 'Tết Nguyên đán'),
  ('2026-02-18', 2026, 1, 'Tết Nguyên đán'),
  ('2026-02-19', 2026, 1, 'Tết Nguyên đán'),
  ('2026-02-20', 2026, 1, 'Tết Nguyên đán'),
  ('2026-04-27', 2026, 1, 'Giỗ Tổ Hùng Vương (nghỉ bù, 26/4 là Chủ nhật)'),
  ('2026-04-30', 2026, 1, 'Ngày Chiến thắng'),
  ('2026-05-01', 2026, 1, 'Quốc tế Lao động'),
  ('2026-09-02', 2026, 1, 'Quốc khánh');
