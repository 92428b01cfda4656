"""The words a person reads beside each answer: one place for the forms that ask and the summary
that shows (keys are the answers' names in domain/answers.py's stored layout)."""

SECTION_ANSWERS = {
    "gender": "性别", "birth_date": "出生日期", "ethnicity": "民族", "political_status": "政治面貌",
    "address": "通讯地址", "email": "电子邮箱",
    "employed": "是否在岗", "unit_name": "工作单位名称", "unit_credit_code": "统一社会信用代码",
    "unit_type": "单位性质", "unit_prefecture": "单位所在州（市）",
    "unit_county": "单位所在县（市、区）", "join_date": "参加工作日期",
    "accounting_start_date": "从事会计工作日期", "posts": "会计岗位", "duty": "职务",
    "person_category": "人员类别", "collection_prefecture": "采集所在州（市）",
    "collection_county": "采集所在县（市、区）", "school_name": "学校名称",
}
EDUCATION_BLOCKS = {"full_time": "全日制最高学历", "part_time": "非全日制最高学历"}
EDUCATION = {"has": "是否有此类学历", "level": "学历", "degree": "学位", "school": "毕业院校",
             "major": "所学专业", "graduated_on": "毕业日期", "certificate_number": "学历证书编号"}
QUALIFICATION = {"has": "是否取得会计专业技术资格", "records": "资格证书", "level": "资格级别",
                 "certificate_number": "证书编号", "obtained_on": "取得日期"}
YES_NO = {"yes": "是", "no": "否"}
HAS_NONE = {"no": "无", "yes": "有"}
