"""GB/T 28181 device codes: 20 digits = centre code (8: province 2, city 2, county 2, access
unit 2) · industry (2) · type (3) · network (1) · serial (6)."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

# 类型编码 (2022 edition): front-end main devices, peripherals and platform devices.
TYPES = {
    "111": "DVR", "112": "视频服务器", "113": "编码器", "114": "解码器", "115": "视频切换矩阵",
    "116": "音频切换矩阵", "117": "报警控制器", "118": "网络视频录像机(NVR)",
    "120": "在线视频图像信息采集系统", "121": "视频卡口", "122": "多目设备",
    "123": "停车场出入口控制设备", "124": "人员出入口控制设备", "125": "安检设备",
    "130": "混合硬盘录像机(HVR)", "131": "摄像机", "132": "网络摄像机(IPC)", "133": "显示器",
    "134": "报警输入设备", "135": "报警输出设备", "136": "语音输入设备", "137": "语音输出设备",
    "138": "移动传输设备", "139": "其他外围设备", "140": "报警输出设备(继电器)", "141": "道闸",
    "142": "智能门", "143": "凭证识别单元",
    "200": "中心信令控制服务器", "201": "Web应用服务器", "202": "媒体分发服务器",
    "203": "代理服务器", "204": "安全服务器", "205": "报警服务器", "206": "数据库服务器",
    "207": "GIS服务器", "208": "管理服务器", "209": "接入网关", "210": "媒体存储服务器",
    "211": "信令安全路由网关", "215": "业务分组", "216": "虚拟组织",
}
# 网络标识: 0–4 the surveillance private network, 5 public-security network, 6 government
# network, 7 Internet, 8 social-resource access network, 9 reserved.
NETWORKS = {"0": "监控报警专网", "1": "监控报警专网", "2": "监控报警专网", "3": "监控报警专网",
            "4": "监控报警专网", "5": "公安信息网", "6": "政务网", "7": "Internet",
            "8": "社会资源接入网"}
# ASCII digits only: `\d` would also take full-width and other scripts' digits, which would
# then be stored as a code no other system can match.
CODE_RE = re.compile(r"[0-9]{20}")
# GB/T 2260 province-level codes (the first two digits of the centre code).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})


class InvalidDeviceCode(ValueError):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def parse_gb28181(raw: str) -> dict:
    """Check a 20-digit code and say what it encodes; raises InvalidDeviceCode."""
    # Chinese input methods readily give full-width digits ("３２０６…"): read them as digits.
    code = "".join(unicodedata.normalize("NFKC", raw or "").split())
    if not CODE_RE.fullmatch(code):
        raise InvalidDeviceCode(_("A GB/T 28181 device code has exactly 20 digits."))
    type_code, network = code[10:13], code[13]
    if type_code not in TYPES:
        raise InvalidDeviceCode(_("Digits 11–13 (%(code)s) are not a GB/T 28181 device type.")
                                % {"code": type_code})
    if network not in NETWORKS:
        raise InvalidDeviceCode(_("Digit 14 (network) %(digit)s is reserved and not used.")
                                % {"digit": network})
    if code[:2] not in PROVINCES or (code[2:4] == "00" and code[4:6] != "00"):
        raise InvalidDeviceCode(_("Digits 1–6 (%(code)s) must be an administrative division "
                                  "code (GB/T 2260).") % {"code": code[:6]})
    return {"code": code, "centre": code[:8], "division": code[:6], "industry": code[8:10],
            "type": type_code, "type_name": TYPES[type_code], "network": network,
            "serial": code[14:]}
