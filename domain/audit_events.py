"""What each audit log entry means, in the words a Chinese auditor reads: the event names (the
codes stay in the table, where the hash chain covers them) and the labels of their details.
tests/test_audit_log_page.py checks that every event the code records is named here."""
import json

from models.account import ROLE_LABELS, Role

EVENT_NAMES = {
    # accounts
    "register": "注册",
    "login": "登录成功",
    "login.failed": "登录失败（密码错误）",
    "login.locked": "账号锁定",
    "login.disabled": "已停用账号尝试登录",
    "login.second_factor": "工作人员登录短信验证",
    "password.change": "修改密码",
    "password.reset": "短信重置密码",
    "password.wrong": "修改密码时原密码错误",
    "phone.bind": "绑定手机号",
    "phone.change": "更换手机号",
    "sms.send": "发送短信验证码",
    "wechat.bind": "绑定微信一键登录",
    "wechat.unbind": "解除微信绑定",
    "wechat.login": "微信一键登录",
    "wechat.login.failed": "微信一键登录失败",
    "wechat.refused": "微信登录或绑定未成功",
    # the application
    "application.submit": "提交审核",
    "change.start": "开始信息变更",
    "change.submit": "提交信息变更",
    "change.withdraw": "撤回信息变更",
    "image.view": "查看证明材料照片",
    "id.reveal": "查看完整证件号码",
    "review.approve": "审核通过",
    "review.reject": "审核不通过（退回）",
    "review.export": "导出Excel",
    "notice.decision": "发送审核结果通知",
    # administration
    "staff.create": "新建工作人员账号",
    "staff.enable": "启用工作人员账号",
    "staff.disable": "停用工作人员账号",
    "staff.region": "调整工作人员管辖地区",
    "staff.reset_password": "重置工作人员密码",
    "archive.upload": "上传原有人员档案",
    "archive.import": "导入原有人员档案",
    "archive.rejected_download": "下载未导入行",
    "job.retry": "重试后台任务",
    # a person's rights (个人信息保护法)
    "copy.request": "申请个人信息副本",
    "copy.build": "生成个人信息副本",
    "copy.download": "下载个人信息副本",
    "account.close": "注销账号",
    "rights.request": "提出删除或更正请求",
    "rights.answer": "答复删除或更正请求",
    # account appeals (账号申诉)
    "appeal.file": "提交账号申诉",
    "appeal.reveal": "查看申诉的完整证件号码和手机号码",
    "appeal.image": "查看申诉照片",
    "appeal.approve": "通过账号申诉",
    "appeal.reject": "驳回账号申诉",
}

DETAIL_LABELS = {
    "application": "申报编号", "reasons": "原因", "reopened": "重新开放", "reason": "原因",
    "status": "状态", "county": "县（市、区）", "query": "含搜索", "rows": "行数",
    "full": "完整号码", "from": "原", "to": "新", "phone": "手机号", "purpose": "用途",
    "role": "角色", "region": "地区", "material": "材料", "variant": "图片", "job": "任务编号",
    "file": "文件编号", "bytes": "字节数", "kind": "类型", "request": "请求编号",
    "outcome": "结果", "erased": "删除", "parts": "变更内容", "intent": "操作",
    "appeal": "申诉编号", "account": "账号编号", "photo": "照片",
}


def event_name(action: str) -> str:
    """The Chinese name of an event; an unknown code is shown as it is."""
    return EVENT_NAMES.get(action, action)


def actor_label(actor: str) -> str:
    """"审核员 530102********0011" from the stored "reviewer:530102********0011"."""
    role, _colon, number = actor.partition(":")
    try:
        return f"{ROLE_LABELS[Role(role)]} {number}" if number else actor
    except ValueError:
        return actor


def event_choices() -> list[tuple[str, str]]:
    return sorted(EVENT_NAMES.items(), key=lambda item: item[0])


def readable_details(details: str) -> str:
    """"申报编号：12；原因：照片不符合要求" from the stored JSON; anything else as stored."""
    try:
        parsed = json.loads(details or "{}")
    except ValueError:
        return details
    if not isinstance(parsed, dict):
        return details
    parts = []
    for key, value in parsed.items():
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value) or "无"
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts)
