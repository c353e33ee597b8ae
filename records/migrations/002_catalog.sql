-- The catalogues (danh mục, 001 Đ8.1): every coded value a record refers to. Deployment-wide
-- (no unit column, so no row-level security); entries are versioned and never deleted. The
-- seed at the end fills them with the real values whose sources docs/CATALOGUES.md names.

CREATE TABLE catalog_entries (
  catalog           text NOT NULL,
  code              text NOT NULL,
  name              text NOT NULL,                         -- Vietnamese, NFC
  name_folded       text GENERATED ALWAYS AS (fold(name)) STORED,
  parent_code       text NOT NULL DEFAULT '',
  active            boolean NOT NULL DEFAULT true,
  version           bigint NOT NULL DEFAULT 1,
  -- Salary tables (NĐ 204/2004), RANK entries only: the group (A3.1, A1, B, ...), the
  -- coefficient of each step as exact decimal text, and the years between two steps.
  rank_group        text NOT NULL DEFAULT '',
  step_coefficients text[] NOT NULL DEFAULT '{}',
  step_years        integer NOT NULL DEFAULT 0,
  sort_order        integer NOT NULL DEFAULT 0,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  updated_by        text NOT NULL DEFAULT '',
  PRIMARY KEY (catalog, code),
  CHECK (version >= 1),
  CHECK (step_years IN (0, 2, 3))
);
-- ListCatalog's keyset order.
CREATE INDEX catalog_entries_order ON catalog_entries (catalog, sort_order, code);

-- Every state an entry has had, one row per version, written by the trigger below so that no
-- writer (seed, RPC, an operator's psql) can change an entry without leaving its trace.
CREATE TABLE catalog_entry_versions (
  catalog           text NOT NULL,
  code              text NOT NULL,
  version           bigint NOT NULL,
  name              text NOT NULL,
  parent_code       text NOT NULL,
  active            boolean NOT NULL,
  rank_group        text NOT NULL,
  step_coefficients text[] NOT NULL,
  step_years        integer NOT NULL,
  sort_order        integer NOT NULL,
  changed_by        text NOT NULL,
  changed_at        timestamptz NOT NULL,
  PRIMARY KEY (catalog, code, version)
);

-- One version per catalogue, bumped by every change to one of its entries: the processes'
-- caches (catalog.c) compare it once a second and reload only a catalogue that moved.
CREATE TABLE catalog_meta (
  catalog text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 1
);

-- SET search_path FROM CURRENT: the function finds this schema's tables whoever writes the
-- entry (an operator's psql or a test fixture need not set the service's search_path).
CREATE FUNCTION catalog_entry_track() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'catalogue entries are never deleted; deactivate them (active = false)'
      USING ERRCODE = '42501';
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.catalog <> OLD.catalog OR NEW.code <> OLD.code) THEN
    RAISE EXCEPTION 'a catalogue entry keeps its catalogue and code' USING ERRCODE = '42501';
  END IF;
  INSERT INTO catalog_entry_versions (catalog, code, version, name, parent_code, active,
         rank_group, step_coefficients, step_years, sort_order, changed_by, changed_at)
  VALUES (NEW.catalog, NEW.code, NEW.version, NEW.name, NEW.parent_code, NEW.active,
          NEW.rank_group, NEW.step_coefficients, NEW.step_years, NEW.sort_order, NEW.updated_by,
          NEW.updated_at);
  INSERT INTO catalog_meta AS m (catalog, version) VALUES (NEW.catalog, 1)
  ON CONFLICT (catalog) DO UPDATE SET version = m.version + 1;
  RETURN NEW;
END $$;
CREATE TRIGGER catalog_entries_track BEFORE INSERT OR UPDATE OR DELETE ON catalog_entries
  FOR EACH ROW EXECUTE FUNCTION catalog_entry_track();

CREATE FUNCTION catalog_no_erase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'catalogues keep every entry and every version; nothing is erased'
    USING ERRCODE = '42501';
END $$;
CREATE TRIGGER catalog_entry_versions_no_change BEFORE UPDATE OR DELETE ON catalog_entry_versions
  FOR EACH ROW EXECUTE FUNCTION catalog_no_erase();
CREATE TRIGGER catalog_entries_no_truncate BEFORE TRUNCATE ON catalog_entries
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_no_erase();
CREATE TRIGGER catalog_entry_versions_no_truncate BEFORE TRUNCATE ON catalog_entry_versions
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_no_erase();

-- ============================================================================================
-- The catalogues' starting content: real values from the sources named in docs/CATALOGUES.md.
-- Plain INSERTs; the trigger above records each as version 1 of its entry.

-- ETHNICITY: the 54 ethnic groups with the codes of the General Statistics Office (QĐ 121-TCTK/PPCĐ, 1979), names as in the 2019 census
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('ETHNICITY', '01', 'Kinh', 1, 'migration 002'),
  ('ETHNICITY', '02', 'Tày', 2, 'migration 002'),
  ('ETHNICITY', '03', 'Thái', 3, 'migration 002'),
  ('ETHNICITY', '04', 'Hoa', 4, 'migration 002'),
  ('ETHNICITY', '05', 'Khơ-me', 5, 'migration 002'),
  ('ETHNICITY', '06', 'Mường', 6, 'migration 002'),
  ('ETHNICITY', '07', 'Nùng', 7, 'migration 002'),
  ('ETHNICITY', '08', 'Mông', 8, 'migration 002'),
  ('ETHNICITY', '09', 'Dao', 9, 'migration 002'),
  ('ETHNICITY', '10', 'Gia-rai', 10, 'migration 002'),
  ('ETHNICITY', '11', 'Ngái', 11, 'migration 002'),
  ('ETHNICITY', '12', 'Ê-đê', 12, 'migration 002'),
  ('ETHNICITY', '13', 'Ba-na', 13, 'migration 002'),
  ('ETHNICITY', '14', 'Xơ-đăng', 14, 'migration 002'),
  ('ETHNICITY', '15', 'Sán Chay', 15, 'migration 002'),
  ('ETHNICITY', '16', 'Cơ-ho', 16, 'migration 002'),
  ('ETHNICITY', '17', 'Chăm', 17, 'migration 002'),
  ('ETHNICITY', '18', 'Sán Dìu', 18, 'migration 002'),
  ('ETHNICITY', '19', 'Hrê', 19, 'migration 002'),
  ('ETHNICITY', '20', 'Mnông', 20, 'migration 002'),
  ('ETHNICITY', '21', 'Ra-glai', 21, 'migration 002'),
  ('ETHNICITY', '22', 'Xtiêng', 22, 'migration 002'),
  ('ETHNICITY', '23', 'Bru-Vân Kiều', 23, 'migration 002'),
  ('ETHNICITY', '24', 'Thổ', 24, 'migration 002'),
  ('ETHNICITY', '25', 'Giáy', 25, 'migration 002'),
  ('ETHNICITY', '26', 'Cơ-tu', 26, 'migration 002'),
  ('ETHNICITY', '27', 'Gié-Triêng', 27, 'migration 002'),
  ('ETHNICITY', '28', 'Mạ', 28, 'migration 002'),
  ('ETHNICITY', '29', 'Khơ-mú', 29, 'migration 002'),
  ('ETHNICITY', '30', 'Co', 30, 'migration 002'),
  ('ETHNICITY', '31', 'Ta-ôi', 31, 'migration 002'),
  ('ETHNICITY', '32', 'Chơ-ro', 32, 'migration 002'),
  ('ETHNICITY', '33', 'Kháng', 33, 'migration 002'),
  ('ETHNICITY', '34', 'Xinh-mun', 34, 'migration 002'),
  ('ETHNICITY', '35', 'Hà Nhì', 35, 'migration 002'),
  ('ETHNICITY', '36', 'Chu-ru', 36, 'migration 002'),
  ('ETHNICITY', '37', 'Lào', 37, 'migration 002'),
  ('ETHNICITY', '38', 'La Chi', 38, 'migration 002'),
  ('ETHNICITY', '39', 'La Ha', 39, 'migration 002'),
  ('ETHNICITY', '40', 'Phù Lá', 40, 'migration 002'),
  ('ETHNICITY', '41', 'La Hủ', 41, 'migration 002'),
  ('ETHNICITY', '42', 'Lự', 42, 'migration 002'),
  ('ETHNICITY', '43', 'Lô Lô', 43, 'migration 002'),
  ('ETHNICITY', '44', 'Chứt', 44, 'migration 002'),
  ('ETHNICITY', '45', 'Mảng', 45, 'migration 002'),
  ('ETHNICITY', '46', 'Pà Thẻn', 46, 'migration 002'),
  ('ETHNICITY', '47', 'Cơ Lao', 47, 'migration 002'),
  ('ETHNICITY', '48', 'Cống', 48, 'migration 002'),
  ('ETHNICITY', '49', 'Bố Y', 49, 'migration 002'),
  ('ETHNICITY', '50', 'Si La', 50, 'migration 002'),
  ('ETHNICITY', '51', 'Pu Péo', 51, 'migration 002'),
  ('ETHNICITY', '52', 'Brâu', 52, 'migration 002'),
  ('ETHNICITY', '53', 'Ơ Đu', 53, 'migration 002'),
  ('ETHNICITY', '54', 'Rơ-măm', 54, 'migration 002');

-- RELIGION: none, and the 16 religions recognised by the Government Committee for Religious Affairs; 01-14 are the GSO codes of QĐ 1019/QĐ-TCTK (2008, Mặc Môn added 2014), 00, 15, 16 ours
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('RELIGION', '00', 'Không', 1, 'migration 002'),
  ('RELIGION', '01', 'Phật giáo', 2, 'migration 002'),
  ('RELIGION', '02', 'Công giáo', 3, 'migration 002'),
  ('RELIGION', '03', 'Phật giáo Hòa Hảo', 4, 'migration 002'),
  ('RELIGION', '04', 'Hồi giáo', 5, 'migration 002'),
  ('RELIGION', '05', 'Cao Đài', 6, 'migration 002'),
  ('RELIGION', '06', 'Minh Sư đạo', 7, 'migration 002'),
  ('RELIGION', '07', 'Minh Lý đạo – Tam Tông Miếu', 8, 'migration 002'),
  ('RELIGION', '08', 'Tin lành', 9, 'migration 002'),
  ('RELIGION', '09', 'Tịnh độ Cư sĩ Phật hội Việt Nam', 10, 'migration 002'),
  ('RELIGION', '10', 'Phật giáo Tứ Ân Hiếu Nghĩa', 11, 'migration 002'),
  ('RELIGION', '11', 'Bửu Sơn Kỳ Hương', 12, 'migration 002'),
  ('RELIGION', '12', 'Tôn giáo Baha''i', 13, 'migration 002'),
  ('RELIGION', '13', 'Bà-la-môn', 14, 'migration 002'),
  ('RELIGION', '14', 'Các Thánh hữu Ngày sau của Chúa Giê-su Ki-tô (Mặc Môn)', 15, 'migration 002'),
  ('RELIGION', '15', 'Cơ đốc Phục lâm', 16, 'migration 002'),
  ('RELIGION', '16', 'Phật giáo Hiếu Nghĩa Tà Lơn', 17, 'migration 002');

-- RANK: ngạch công chức and chức danh nghề nghiệp viên chức with the salary table of their group
-- (NĐ 204/2004/NĐ-CP Bảng 2 and Bảng 3); 3 years between steps from A0 up, 2 years for B (TT 03/2021/TT-BNV).
INSERT INTO catalog_entries (catalog, code, name, rank_group, step_coefficients, step_years, sort_order, updated_by) VALUES
  ('RANK', '01.001', 'Chuyên viên cao cấp', 'A3.1', '{6.20,6.56,6.92,7.28,7.64,8.00}', 3, 1, 'migration 002'),
  ('RANK', '01.002', 'Chuyên viên chính', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 2, 'migration 002'),
  ('RANK', '01.003', 'Chuyên viên', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 3, 'migration 002'),
  ('RANK', '01.004', 'Cán sự', 'A0', '{2.10,2.41,2.72,3.03,3.34,3.65,3.96,4.27,4.58,4.89}', 3, 4, 'migration 002'),
  ('RANK', '01.005', 'Nhân viên', 'B', '{1.86,2.06,2.26,2.46,2.66,2.86,3.06,3.26,3.46,3.66,3.86,4.06}', 2, 5, 'migration 002'),
  ('RANK', '02.006', 'Văn thư viên chính', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 6, 'migration 002'),
  ('RANK', '02.007', 'Văn thư viên', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 7, 'migration 002'),
  ('RANK', '02.008', 'Văn thư viên trung cấp', 'B', '{1.86,2.06,2.26,2.46,2.66,2.86,3.06,3.26,3.46,3.66,3.86,4.06}', 2, 8, 'migration 002'),
  ('RANK', '04.023', 'Thanh tra viên cao cấp', 'A3.1', '{6.20,6.56,6.92,7.28,7.64,8.00}', 3, 9, 'migration 002'),
  ('RANK', '04.024', 'Thanh tra viên chính', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 10, 'migration 002'),
  ('RANK', '04.025', 'Thanh tra viên', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 11, 'migration 002'),
  ('RANK', '06.029', 'Kế toán viên cao cấp', 'A3.2', '{5.75,6.11,6.47,6.83,7.19,7.55}', 3, 12, 'migration 002'),
  ('RANK', '06.030', 'Kế toán viên chính', 'A2.2', '{4.00,4.34,4.68,5.02,5.36,5.70,6.04,6.38}', 3, 13, 'migration 002'),
  ('RANK', '06.031', 'Kế toán viên', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 14, 'migration 002'),
  ('RANK', 'V.07.04.30', 'Giáo viên trung học cơ sở hạng I', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 15, 'migration 002'),
  ('RANK', 'V.07.04.31', 'Giáo viên trung học cơ sở hạng II', 'A2.2', '{4.00,4.34,4.68,5.02,5.36,5.70,6.04,6.38}', 3, 16, 'migration 002'),
  ('RANK', 'V.07.04.32', 'Giáo viên trung học cơ sở hạng III', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 17, 'migration 002'),
  ('RANK', 'V.07.05.13', 'Giáo viên trung học phổ thông hạng I', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 18, 'migration 002'),
  ('RANK', 'V.07.05.14', 'Giáo viên trung học phổ thông hạng II', 'A2.2', '{4.00,4.34,4.68,5.02,5.36,5.70,6.04,6.38}', 3, 19, 'migration 002'),
  ('RANK', 'V.07.05.15', 'Giáo viên trung học phổ thông hạng III', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 20, 'migration 002'),
  ('RANK', 'V.08.01.01', 'Bác sĩ cao cấp (hạng I)', 'A3.1', '{6.20,6.56,6.92,7.28,7.64,8.00}', 3, 21, 'migration 002'),
  ('RANK', 'V.08.01.02', 'Bác sĩ chính (hạng II)', 'A2.1', '{4.40,4.74,5.08,5.42,5.76,6.10,6.44,6.78}', 3, 22, 'migration 002'),
  ('RANK', 'V.08.01.03', 'Bác sĩ (hạng III)', 'A1', '{2.34,2.67,3.00,3.33,3.66,3.99,4.32,4.65,4.98}', 3, 23, 'migration 002');

-- DEGREE: trình độ chuyên môn, highest first
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('DEGREE', 'TS', 'Tiến sĩ', 1, 'migration 002'),
  ('DEGREE', 'THS', 'Thạc sĩ', 2, 'migration 002'),
  ('DEGREE', 'DH', 'Đại học', 3, 'migration 002'),
  ('DEGREE', 'CD', 'Cao đẳng', 4, 'migration 002'),
  ('DEGREE', 'TC', 'Trung cấp', 5, 'migration 002'),
  ('DEGREE', 'SC', 'Sơ cấp', 6, 'migration 002'),
  ('DEGREE', 'CQDT', 'Chưa qua đào tạo', 7, 'migration 002');

-- POLITICAL_THEORY: lý luận chính trị
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('POLITICAL_THEORY', 'CN', 'Cử nhân', 1, 'migration 002'),
  ('POLITICAL_THEORY', 'CC', 'Cao cấp', 2, 'migration 002'),
  ('POLITICAL_THEORY', 'TC', 'Trung cấp', 3, 'migration 002'),
  ('POLITICAL_THEORY', 'SC', 'Sơ cấp', 4, 'migration 002');

-- STATE_MANAGEMENT: quản lý nhà nước: the rank programme completed
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('STATE_MANAGEMENT', 'CVCC', 'Chuyên viên cao cấp', 1, 'migration 002'),
  ('STATE_MANAGEMENT', 'CVC', 'Chuyên viên chính', 2, 'migration 002'),
  ('STATE_MANAGEMENT', 'CV', 'Chuyên viên', 3, 'migration 002'),
  ('STATE_MANAGEMENT', 'CS', 'Cán sự', 4, 'migration 002');

-- POSITION: common chức vụ lãnh đạo, quản lý of a province's agencies, districts, communes and public service units
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('POSITION', 'CT_UBND_TINH', 'Chủ tịch Ủy ban nhân dân tỉnh', 1, 'migration 002'),
  ('POSITION', 'PCT_UBND_TINH', 'Phó Chủ tịch Ủy ban nhân dân tỉnh', 2, 'migration 002'),
  ('POSITION', 'GD_SO', 'Giám đốc Sở', 3, 'migration 002'),
  ('POSITION', 'PGD_SO', 'Phó Giám đốc Sở', 4, 'migration 002'),
  ('POSITION', 'CHANH_VP', 'Chánh Văn phòng', 5, 'migration 002'),
  ('POSITION', 'PHO_CHANH_VP', 'Phó Chánh Văn phòng', 6, 'migration 002'),
  ('POSITION', 'CHANH_TTRA', 'Chánh Thanh tra', 7, 'migration 002'),
  ('POSITION', 'PHO_CHANH_TTRA', 'Phó Chánh Thanh tra', 8, 'migration 002'),
  ('POSITION', 'CHI_CUC_TRUONG', 'Chi cục trưởng', 9, 'migration 002'),
  ('POSITION', 'PHO_CHI_CUC_TRUONG', 'Phó Chi cục trưởng', 10, 'migration 002'),
  ('POSITION', 'TRUONG_PHONG', 'Trưởng phòng', 11, 'migration 002'),
  ('POSITION', 'PHO_TRUONG_PHONG', 'Phó Trưởng phòng', 12, 'migration 002'),
  ('POSITION', 'CT_UBND_HUYEN', 'Chủ tịch Ủy ban nhân dân huyện', 13, 'migration 002'),
  ('POSITION', 'PCT_UBND_HUYEN', 'Phó Chủ tịch Ủy ban nhân dân huyện', 14, 'migration 002'),
  ('POSITION', 'CT_UBND_XA', 'Chủ tịch Ủy ban nhân dân xã', 15, 'migration 002'),
  ('POSITION', 'PCT_UBND_XA', 'Phó Chủ tịch Ủy ban nhân dân xã', 16, 'migration 002'),
  ('POSITION', 'GD_TRUNG_TAM', 'Giám đốc Trung tâm', 17, 'migration 002'),
  ('POSITION', 'PGD_TRUNG_TAM', 'Phó Giám đốc Trung tâm', 18, 'migration 002'),
  ('POSITION', 'GD_BENH_VIEN', 'Giám đốc Bệnh viện', 19, 'migration 002'),
  ('POSITION', 'PGD_BENH_VIEN', 'Phó Giám đốc Bệnh viện', 20, 'migration 002'),
  ('POSITION', 'TRUONG_KHOA', 'Trưởng khoa', 21, 'migration 002'),
  ('POSITION', 'PHO_TRUONG_KHOA', 'Phó Trưởng khoa', 22, 'migration 002'),
  ('POSITION', 'HIEU_TRUONG', 'Hiệu trưởng', 23, 'migration 002'),
  ('POSITION', 'PHO_HIEU_TRUONG', 'Phó Hiệu trưởng', 24, 'migration 002'),
  ('POSITION', 'TO_TRUONG', 'Tổ trưởng chuyên môn', 25, 'migration 002'),
  ('POSITION', 'TO_PHO', 'Tổ phó chuyên môn', 26, 'migration 002');

-- ALLOWANCE: the allowances of NĐ 204/2004/NĐ-CP Điều 6, phụ cấp công vụ (NĐ 34/2012/NĐ-CP) and the long-service allowance of NĐ 116/2010/NĐ-CP
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('ALLOWANCE', 'CHUC_VU', 'Phụ cấp chức vụ lãnh đạo', 1, 'migration 002'),
  ('ALLOWANCE', 'TN_VUOT_KHUNG', 'Phụ cấp thâm niên vượt khung', 2, 'migration 002'),
  ('ALLOWANCE', 'KIEM_NHIEM', 'Phụ cấp kiêm nhiệm chức danh lãnh đạo', 3, 'migration 002'),
  ('ALLOWANCE', 'KHU_VUC', 'Phụ cấp khu vực', 4, 'migration 002'),
  ('ALLOWANCE', 'DAC_BIET', 'Phụ cấp đặc biệt', 5, 'migration 002'),
  ('ALLOWANCE', 'THU_HUT', 'Phụ cấp thu hút', 6, 'migration 002'),
  ('ALLOWANCE', 'LUU_DONG', 'Phụ cấp lưu động', 7, 'migration 002'),
  ('ALLOWANCE', 'DOC_HAI', 'Phụ cấp độc hại, nguy hiểm', 8, 'migration 002'),
  ('ALLOWANCE', 'TN_NGHE', 'Phụ cấp thâm niên nghề', 9, 'migration 002'),
  ('ALLOWANCE', 'UU_DAI_NGHE', 'Phụ cấp ưu đãi theo nghề', 10, 'migration 002'),
  ('ALLOWANCE', 'TRACH_NHIEM_NGHE', 'Phụ cấp trách nhiệm theo nghề', 11, 'migration 002'),
  ('ALLOWANCE', 'TRACH_NHIEM_CV', 'Phụ cấp trách nhiệm công việc', 12, 'migration 002'),
  ('ALLOWANCE', 'QP_AN', 'Phụ cấp phục vụ quốc phòng, an ninh', 13, 'migration 002'),
  ('ALLOWANCE', 'CONG_VU', 'Phụ cấp công vụ', 14, 'migration 002'),
  ('ALLOWANCE', 'LAU_NAM_DBKK', 'Phụ cấp công tác lâu năm ở vùng có điều kiện kinh tế – xã hội đặc biệt khó khăn', 15, 'migration 002');

-- REWARD_FORM: hình thức khen thưởng and danh hiệu thi đua of the Luật Thi đua, khen thưởng 2022 most often found in dossiers
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('REWARD_FORM', 'HC_DOC_LAP_1', 'Huân chương Độc lập hạng Nhất', 1, 'migration 002'),
  ('REWARD_FORM', 'HC_DOC_LAP_2', 'Huân chương Độc lập hạng Nhì', 2, 'migration 002'),
  ('REWARD_FORM', 'HC_DOC_LAP_3', 'Huân chương Độc lập hạng Ba', 3, 'migration 002'),
  ('REWARD_FORM', 'HC_LAO_DONG_1', 'Huân chương Lao động hạng Nhất', 4, 'migration 002'),
  ('REWARD_FORM', 'HC_LAO_DONG_2', 'Huân chương Lao động hạng Nhì', 5, 'migration 002'),
  ('REWARD_FORM', 'HC_LAO_DONG_3', 'Huân chương Lao động hạng Ba', 6, 'migration 002'),
  ('REWARD_FORM', 'BK_TTG', 'Bằng khen của Thủ tướng Chính phủ', 7, 'migration 002'),
  ('REWARD_FORM', 'BK_BO', 'Bằng khen của Bộ, ban, ngành, đoàn thể trung ương', 8, 'migration 002'),
  ('REWARD_FORM', 'BK_TINH', 'Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh', 9, 'migration 002'),
  ('REWARD_FORM', 'GIAY_KHEN', 'Giấy khen', 10, 'migration 002'),
  ('REWARD_FORM', 'CSTD_TOAN_QUOC', 'Chiến sĩ thi đua toàn quốc', 11, 'migration 002'),
  ('REWARD_FORM', 'CSTD_TINH', 'Chiến sĩ thi đua cấp bộ, ban, ngành, tỉnh', 12, 'migration 002'),
  ('REWARD_FORM', 'CSTD_CO_SO', 'Chiến sĩ thi đua cơ sở', 13, 'migration 002'),
  ('REWARD_FORM', 'LD_TIEN_TIEN', 'Lao động tiên tiến', 14, 'migration 002');

-- DISCIPLINE_FORM: the disciplinary forms of the Luật Cán bộ, công chức (Điều 78 cán bộ, Điều 79 công chức) and the Luật Viên chức (Điều 52), lightest first
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('DISCIPLINE_FORM', 'KHIEN_TRACH', 'Khiển trách', 1, 'migration 002'),
  ('DISCIPLINE_FORM', 'CANH_CAO', 'Cảnh cáo', 2, 'migration 002'),
  ('DISCIPLINE_FORM', 'HA_BAC_LUONG', 'Hạ bậc lương', 3, 'migration 002'),
  ('DISCIPLINE_FORM', 'GIANG_CHUC', 'Giáng chức', 4, 'migration 002'),
  ('DISCIPLINE_FORM', 'CACH_CHUC', 'Cách chức', 5, 'migration 002'),
  ('DISCIPLINE_FORM', 'BAI_NHIEM', 'Bãi nhiệm', 6, 'migration 002'),
  ('DISCIPLINE_FORM', 'BUOC_THOI_VIEC', 'Buộc thôi việc', 7, 'migration 002');

-- RELATION: the family relations form 2C-BNV/2008 asks for (bố, mẹ, vợ/chồng, con, anh chị em ruột, and the spouse's)
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('RELATION', 'FATHER', 'Bố đẻ', 1, 'migration 002'),
  ('RELATION', 'MOTHER', 'Mẹ đẻ', 2, 'migration 002'),
  ('RELATION', 'ADOPTIVE_FATHER', 'Bố nuôi', 3, 'migration 002'),
  ('RELATION', 'ADOPTIVE_MOTHER', 'Mẹ nuôi', 4, 'migration 002'),
  ('RELATION', 'SPOUSE', 'Vợ hoặc chồng', 5, 'migration 002'),
  ('RELATION', 'CHILD', 'Con đẻ', 6, 'migration 002'),
  ('RELATION', 'ADOPTED_CHILD', 'Con nuôi', 7, 'migration 002'),
  ('RELATION', 'SIBLING', 'Anh, chị, em ruột', 8, 'migration 002'),
  ('RELATION', 'SPOUSE_FATHER', 'Bố vợ hoặc bố chồng', 9, 'migration 002'),
  ('RELATION', 'SPOUSE_MOTHER', 'Mẹ vợ hoặc mẹ chồng', 10, 'migration 002'),
  ('RELATION', 'SPOUSE_SIBLING', 'Anh, chị, em ruột của vợ hoặc chồng', 11, 'migration 002');

-- STAFFING: biên chế and the contract forms of the public sector
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('STAFFING', 'BIEN_CHE', 'Trong biên chế', 1, 'migration 002'),
  ('STAFFING', 'TAP_SU', 'Tập sự', 2, 'migration 002'),
  ('STAFFING', 'HDLV_KXD', 'Hợp đồng làm việc không xác định thời hạn', 3, 'migration 002'),
  ('STAFFING', 'HDLV_XD', 'Hợp đồng làm việc xác định thời hạn', 4, 'migration 002'),
  ('STAFFING', 'HD_68', 'Hợp đồng theo Nghị định 68/2000/NĐ-CP', 5, 'migration 002'),
  ('STAFFING', 'HD_161', 'Hợp đồng theo Nghị định 161/2018/NĐ-CP', 6, 'migration 002'),
  ('STAFFING', 'HD_111', 'Hợp đồng theo Nghị định 111/2022/NĐ-CP', 7, 'migration 002'),
  ('STAFFING', 'HDLD', 'Hợp đồng lao động', 8, 'migration 002');

-- UNIT_TYPE: the unit types of hoso.identity.v1.UnitType, same codes without the UNIT_TYPE_ prefix
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('UNIT_TYPE', 'PROVINCE', 'Tỉnh, thành phố trực thuộc trung ương', 1, 'migration 002'),
  ('UNIT_TYPE', 'DEPARTMENT', 'Sở, ban, ngành', 2, 'migration 002'),
  ('UNIT_TYPE', 'DISTRICT', 'Huyện, quận, thị xã, thành phố thuộc tỉnh', 3, 'migration 002'),
  ('UNIT_TYPE', 'AGENCY', 'Cơ quan, phòng, chi cục', 4, 'migration 002'),
  ('UNIT_TYPE', 'PUBLIC_SERVICE', 'Đơn vị sự nghiệp công lập', 5, 'migration 002'),
  ('UNIT_TYPE', 'COMMUNE', 'Xã, phường, thị trấn', 6, 'migration 002'),
  ('UNIT_TYPE', 'SUB_UNIT', 'Phòng, khoa, tổ thuộc đơn vị', 7, 'migration 002');

-- TITLE: danh hiệu vinh dự nhà nước (Luật Thi đua, khen thưởng) and the học hàm
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('TITLE', 'AH_LAO_DONG', 'Anh hùng Lao động', 1, 'migration 002'),
  ('TITLE', 'AH_LLVT', 'Anh hùng Lực lượng vũ trang nhân dân', 2, 'migration 002'),
  ('TITLE', 'NHA_GIAO_ND', 'Nhà giáo Nhân dân', 3, 'migration 002'),
  ('TITLE', 'NHA_GIAO_UT', 'Nhà giáo Ưu tú', 4, 'migration 002'),
  ('TITLE', 'THAY_THUOC_ND', 'Thầy thuốc Nhân dân', 5, 'migration 002'),
  ('TITLE', 'THAY_THUOC_UT', 'Thầy thuốc Ưu tú', 6, 'migration 002'),
  ('TITLE', 'NGHE_SI_ND', 'Nghệ sĩ Nhân dân', 7, 'migration 002'),
  ('TITLE', 'NGHE_SI_UT', 'Nghệ sĩ Ưu tú', 8, 'migration 002'),
  ('TITLE', 'NGHE_NHAN_ND', 'Nghệ nhân Nhân dân', 9, 'migration 002'),
  ('TITLE', 'NGHE_NHAN_UT', 'Nghệ nhân Ưu tú', 10, 'migration 002'),
  ('TITLE', 'GIAO_SU', 'Giáo sư', 11, 'migration 002'),
  ('TITLE', 'PHO_GIAO_SU', 'Phó Giáo sư', 12, 'migration 002');

-- SCHOOL: a handful of the schools most officials trained at; administrators add their province's own
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('SCHOOL', 'HV_CTQG_HCM', 'Học viện Chính trị quốc gia Hồ Chí Minh', 1, 'migration 002'),
  ('SCHOOL', 'HV_HCQG', 'Học viện Hành chính Quốc gia', 2, 'migration 002'),
  ('SCHOOL', 'DHQG_HN', 'Đại học Quốc gia Hà Nội', 3, 'migration 002'),
  ('SCHOOL', 'DHQG_HCM', 'Đại học Quốc gia Thành phố Hồ Chí Minh', 4, 'migration 002'),
  ('SCHOOL', 'DH_HUE', 'Đại học Huế', 5, 'migration 002'),
  ('SCHOOL', 'DH_DA_NANG', 'Đại học Đà Nẵng', 6, 'migration 002'),
  ('SCHOOL', 'DH_THAI_NGUYEN', 'Đại học Thái Nguyên', 7, 'migration 002'),
  ('SCHOOL', 'DH_KTQD', 'Trường Đại học Kinh tế Quốc dân', 8, 'migration 002'),
  ('SCHOOL', 'DH_LUAT_HN', 'Trường Đại học Luật Hà Nội', 9, 'migration 002'),
  ('SCHOOL', 'DH_SP_HN', 'Trường Đại học Sư phạm Hà Nội', 10, 'migration 002'),
  ('SCHOOL', 'DH_Y_HN', 'Trường Đại học Y Hà Nội', 11, 'migration 002'),
  ('SCHOOL', 'DH_CAN_THO', 'Trường Đại học Cần Thơ', 12, 'migration 002');

-- MAJOR: common chuyên ngành of officials' degrees
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('MAJOR', 'LUAT', 'Luật', 1, 'migration 002'),
  ('MAJOR', 'KINH_TE', 'Kinh tế', 2, 'migration 002'),
  ('MAJOR', 'QLNN', 'Quản lý nhà nước', 3, 'migration 002'),
  ('MAJOR', 'HANH_CHINH', 'Hành chính học', 4, 'migration 002'),
  ('MAJOR', 'CHINH_TRI', 'Chính trị học', 5, 'migration 002'),
  ('MAJOR', 'KE_TOAN', 'Kế toán', 6, 'migration 002'),
  ('MAJOR', 'TCNH', 'Tài chính – Ngân hàng', 7, 'migration 002'),
  ('MAJOR', 'QTKD', 'Quản trị kinh doanh', 8, 'migration 002'),
  ('MAJOR', 'CNTT', 'Công nghệ thông tin', 9, 'migration 002'),
  ('MAJOR', 'SP_TOAN', 'Sư phạm Toán học', 10, 'migration 002'),
  ('MAJOR', 'SP_NGU_VAN', 'Sư phạm Ngữ văn', 11, 'migration 002'),
  ('MAJOR', 'SP_TIENG_ANH', 'Sư phạm Tiếng Anh', 12, 'migration 002'),
  ('MAJOR', 'Y_KHOA', 'Y khoa (Y đa khoa)', 13, 'migration 002'),
  ('MAJOR', 'DIEU_DUONG', 'Điều dưỡng', 14, 'migration 002'),
  ('MAJOR', 'DUOC', 'Dược học', 15, 'migration 002'),
  ('MAJOR', 'XAY_DUNG', 'Kỹ thuật xây dựng', 16, 'migration 002'),
  ('MAJOR', 'NONG_HOC', 'Nông học', 17, 'migration 002'),
  ('MAJOR', 'QLGD', 'Quản lý giáo dục', 18, 'migration 002');

-- RECORD_STATUS: the names of hoso.records.v1.RecordStatus, sort_order = the enum number
INSERT INTO catalog_entries (catalog, code, name, sort_order, updated_by) VALUES
  ('RECORD_STATUS', 'RECORD_STATUS_ACTIVE', 'Đang công tác', 1, 'migration 002'),
  ('RECORD_STATUS', 'RECORD_STATUS_PENDING_TRANSFER', 'Đang điều chuyển', 2, 'migration 002'),
  ('RECORD_STATUS', 'RECORD_STATUS_TRANSFERRED_OUT', 'Đã chuyển ra ngoài hệ thống', 3, 'migration 002'),
  ('RECORD_STATUS', 'RECORD_STATUS_RETIRED', 'Nghỉ hưu', 4, 'migration 002'),
  ('RECORD_STATUS', 'RECORD_STATUS_RESIGNED', 'Thôi việc', 5, 'migration 002'),
  ('RECORD_STATUS', 'RECORD_STATUS_DECEASED', 'Từ trần', 6, 'migration 002');
