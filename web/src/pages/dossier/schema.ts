/* The dossier's layout after form 2C-BNV/2008: its sections (one tab each), the fields of each
 * with their Vietnamese labels and kinds, and the dated histories as tables. The read view,
 * the edit form and the version diff all use this one description, so a field is named the
 * same everywhere. Paths are the proto field names in the generated (camelCase) form. */

export type Kind =
  | { t: 'text' } | { t: 'long' } | { t: 'date' } | { t: 'month' } | { t: 'int' } | { t: 'bool' }
  | { t: 'catalog'; catalog: string } | { t: 'enum'; labels: string[] };

export interface FieldDef {
  path: string[];
  label: string;
  kind: Kind;
  required?: boolean;
}

export interface HistoryDef {
  key: string;
  title: string;
  columns: FieldDef[];
}

export interface SectionDef {
  key: string;
  title: string;
  tab: string; /* the short name on its tab: every tab fits at 1366 px */
  fields: FieldDef[];
  histories: HistoryDef[];
}

const text: Kind = { t: 'text' };
const long: Kind = { t: 'long' };
const date: Kind = { t: 'date' };
const month: Kind = { t: 'month' };
const int: Kind = { t: 'int' };
const bool: Kind = { t: 'bool' };
const cat = (catalog: string): Kind => ({ t: 'catalog', catalog });
const f = (path: string, label: string, kind: Kind = text, required = false): FieldDef => ({ path: path.split('.'), label, kind, required });

const decision = (prefix = 'decision'): FieldDef[] => [
  f(`${prefix}.number`, 'Số quyết định'),
  f(`${prefix}.date`, 'Ngày quyết định', date),
];

export const GENDERS = ['—', 'Nam', 'Nữ'];
export const CATEGORIES = ['—', 'Cán bộ', 'Công chức', 'Viên chức', 'Hợp đồng', 'Cán bộ, công chức cấp xã'];

export const SECTIONS: SectionDef[] = [
  {
    key: 'personal', title: 'Sơ yếu lý lịch', tab: 'Sơ yếu',
    fields: [
      f('fullName', 'Họ và tên khai sinh', text, true), f('personal.otherNames', 'Tên gọi khác'),
      f('birthDate', 'Ngày sinh', date, true), f('gender', 'Giới tính', { t: 'enum', labels: GENDERS }, true),
      f('personal.birthPlace', 'Nơi sinh'), f('personal.homeTown', 'Quê quán'),
      f('personal.ethnicityCode', 'Dân tộc', cat('ETHNICITY')), f('personal.religionCode', 'Tôn giáo', cat('RELIGION')),
      f('personal.citizenId', 'Số CCCD/CMND'), f('personal.citizenIdDate', 'Ngày cấp', date), f('personal.citizenIdPlace', 'Nơi cấp'),
      f('personal.socialInsuranceNo', 'Số sổ BHXH'), f('personal.healthInsuranceNo', 'Số thẻ BHYT'),
      f('personal.permanentAddress', 'Nơi đăng ký hộ khẩu thường trú'), f('personal.currentAddress', 'Nơi ở hiện nay'),
      f('personal.phone', 'Điện thoại'), f('personal.email', 'Thư điện tử công vụ'),
    ],
    histories: [],
  },
  {
    key: 'employment', title: 'Tuyển dụng, chức vụ, lương', tab: 'Tuyển dụng, lương',
    fields: [
      f('employment.category', 'Đối tượng', { t: 'enum', labels: CATEGORIES }, true),
      f('employment.recruitmentDate', 'Ngày tuyển dụng', date), f('employment.recruitmentAgency', 'Cơ quan tuyển dụng'),
      f('employment.occupationWhenRecruited', 'Nghề nghiệp khi được tuyển dụng'), f('employment.officialDate', 'Ngày vào biên chế / hết tập sự', date),
      f('employment.department', 'Phòng, ban công tác'), f('employment.positionCode', 'Chức vụ hiện tại', cat('POSITION')),
      f('employment.positionDate', 'Ngày bổ nhiệm', date), f('employment.jobPosition', 'Vị trí việc làm'),
      f('employment.professionalTitle', 'Chức danh nghề nghiệp'), f('employment.staffingStatus', 'Tình trạng biên chế', cat('STAFFING')),
      f('employment.mainDuties', 'Công việc chính được giao', long),
      f('salary.rankCode', 'Ngạch / mã chức danh', cat('RANK')), f('salary.step', 'Bậc lương', int), f('salary.coefficient', 'Hệ số lương'),
      f('salary.effectiveDate', 'Ngày hưởng', date), f('salary.nextRaiseDate', 'Mốc nâng lương lần sau', date),
      f('salary.positionAllowance', 'Phụ cấp chức vụ'), f('salary.seniorityBeyondFramePercent', 'Thâm niên vượt khung (%)'),
    ],
    histories: [
      { key: 'salaryHistory', title: 'Diễn biến quá trình lương', columns: [f('date', 'Tháng/năm', month), f('rankCode', 'Mã ngạch', cat('RANK')), f('step', 'Bậc', int), f('coefficient', 'Hệ số'), ...decision()] },
      { key: 'appointments', title: 'Bổ nhiệm, bổ nhiệm lại', columns: [f('positionCode', 'Chức vụ', cat('POSITION')), f('unit', 'Đơn vị'), f('from', 'Từ', month), f('to', 'Đến', month), f('reappointment', 'Bổ nhiệm lại', bool), ...decision()] },
    ],
  },
  {
    key: 'qualifications', title: 'Trình độ, đào tạo', tab: 'Trình độ',
    fields: [
      f('qualifications.generalEducation', 'Giáo dục phổ thông'), f('qualifications.degreeCode', 'Trình độ chuyên môn cao nhất', cat('DEGREE')),
      f('qualifications.major', 'Chuyên ngành'), f('qualifications.politicalTheoryCode', 'Lý luận chính trị', cat('POLITICAL_THEORY')),
      f('qualifications.stateManagementCode', 'Quản lý nhà nước', cat('STATE_MANAGEMENT')), f('qualifications.itLevel', 'Tin học'),
      f('qualifications.academicTitle', 'Học hàm'), f('qualifications.ethnicLanguage', 'Tiếng dân tộc thiểu số'),
    ],
    histories: [
      { key: 'trainings', title: 'Đào tạo, bồi dưỡng', columns: [f('school', 'Tên trường'), f('major', 'Chuyên ngành'), f('from', 'Từ', month), f('to', 'Đến', month), f('form', 'Hình thức'), f('degreeCode', 'Văn bằng', cat('DEGREE'))] },
    ],
  },
  {
    key: 'party', title: 'Đảng, đoàn thể, sức khỏe', tab: 'Đảng, sức khỏe',
    fields: [
      f('party.partyMember', 'Đảng viên', bool), f('party.partyJoinDate', 'Ngày vào Đảng', date), f('party.partyOfficialDate', 'Ngày chính thức', date),
      f('party.socioPoliticalOrgs', 'Tổ chức chính trị – xã hội'), f('party.enlistDate', 'Ngày nhập ngũ', date), f('party.dischargeDate', 'Ngày xuất ngũ', date),
      f('party.militaryRank', 'Quân hàm cao nhất'), f('party.highestTitle', 'Danh hiệu được phong tặng cao nhất'),
      f('health.healthStatus', 'Tình trạng sức khỏe'), f('health.heightCm', 'Chiều cao (cm)', int), f('health.weightKg', 'Cân nặng (kg)', int),
      f('health.bloodType', 'Nhóm máu'), f('health.warInvalidGrade', 'Thương binh hạng'), f('health.policyFamily', 'Gia đình chính sách'),
    ],
    histories: [],
  },
  {
    key: 'work', title: 'Quá trình công tác', tab: 'Quá trình công tác',
    fields: [],
    histories: [
      { key: 'workHistory', title: 'Tóm tắt quá trình công tác', columns: [f('from', 'Từ', month), f('to', 'Đến', month), f('unit', 'Đơn vị'), f('position', 'Chức danh, chức vụ'), f('description', 'Ghi chú')] },
      { key: 'transfers', title: 'Điều động, luân chuyển, biệt phái', columns: [f('kind', 'Hình thức'), f('fromUnit', 'Từ đơn vị'), f('toUnit', 'Đến đơn vị'), f('from', 'Từ', month), f('to', 'Đến', month), ...decision()] },
      { key: 'studyLeaves', title: 'Đi học', columns: [f('school', 'Trường'), f('country', 'Nước'), f('from', 'Từ', month), f('to', 'Đến', month)] },
      { key: 'missionsAbroad', title: 'Đi công tác nước ngoài', columns: [f('country', 'Nước'), f('purpose', 'Mục đích'), f('from', 'Từ', month), f('to', 'Đến', month)] },
    ],
  },
  {
    key: 'rewards', title: 'Khen thưởng, kỷ luật', tab: 'Khen thưởng, kỷ luật',
    fields: [],
    histories: [
      { key: 'rewards', title: 'Khen thưởng', columns: [f('formCode', 'Hình thức', cat('REWARD_FORM')), f('title', 'Danh hiệu'), f('year', 'Năm'), ...decision()] },
      { key: 'disciplines', title: 'Kỷ luật', columns: [f('formCode', 'Hình thức', cat('DISCIPLINE_FORM')), f('reason', 'Lý do'), f('from', 'Từ', month), f('to', 'Đến', month), ...decision()] },
    ],
  },
  {
    key: 'family', title: 'Gia đình, lịch sử bản thân', tab: 'Gia đình',
    fields: [
      f('personalHistory.arrestedOrDetained', 'Khai rõ: bị bắt, bị tù (thời gian, ở đâu), đã khai báo cho ai', long),
      f('personalHistory.foreignOrgMembership', 'Tham gia hoặc có quan hệ với tổ chức nước ngoài', long),
      f('personalHistory.relativesAbroad', 'Có thân nhân ở nước ngoài', long),
    ],
    histories: [
      { key: 'family', title: 'Quan hệ gia đình', columns: [f('relationCode', 'Quan hệ', cat('RELATION')), f('fullName', 'Họ và tên'), f('birthYear', 'Năm sinh'), f('occupation', 'Nghề nghiệp, đơn vị'), f('residence', 'Nơi ở'), f('spouseSide', 'Bên vợ/chồng', bool)] },
    ],
  },
];

type Obj = Record<string, unknown>;

export function getPath(o: unknown, path: readonly (string | number)[]): unknown {
  let cur: unknown = o;
  for (const k of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[k as string];
  }
  return cur;
}

/* Fields the workflow and other RPCs own, which the edit form does not show. */
const OWN: Record<string, string> = {
  managingUnitId: 'Đơn vị quản lý', status: 'Trạng thái', statusDate: 'Ngày thay đổi trạng thái',
  workflowState: 'Phê duyệt', verified: 'Đã xác minh', approvedBy: 'Người phê duyệt',
  approvedAt: 'Thời điểm phê duyệt', 'statusDecision.number': 'Quyết định thay đổi trạng thái: số',
  'statusDecision.date': 'Quyết định thay đổi trạng thái: ngày', 'statusDecision.effectiveDate': 'Quyết định thay đổi trạng thái: ngày hiệu lực',
};

/* "salary.step" / "work_history[2].to" of a FieldChange → the label a person reads. */
export function labelOfPath(path: string): string {
  const own = OWN[path.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())];
  if (own) return own;
  const segs = path.split('.').map((s) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
  const head = /^([A-Za-z]+)(?:\[(\d+)\])?$/.exec(segs[0]);
  for (const s of SECTIONS) {
    for (const fd of s.fields) if (fd.path.join('.') === segs.join('.')) return fd.label;
    for (const h of s.histories)
      if (head && h.key === head[1]) {
        const col = h.columns.find((c) => c.path.join('.') === segs.slice(1).join('.'));
        const n = head[2] !== undefined ? ` ${Number(head[2]) + 1}` : '';
        return col ? `${h.title}${n}: ${col.label}` : `${h.title}${n}`;
      }
  }
  return path;
}
