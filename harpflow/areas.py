"""The 27 business areas (業務) of HARP and where each stands today.

HARP's 27 areas are APPLIC 業務ユニット names. Since the 2021 law on the
standardisation of local government information systems
(地方公共団体情報システムの標準化に関する法律, 令和3年法律第40号), 20 areas
have a national standard specification. Each :class:`Area` says which of
those 20 it maps to (``status="standardised"``), whether it was folded into
another specification (``"merged"``), whether the work itself was abolished
(``"abolished"``), or whether it stays outside the 20
(``"not_standardised"``), and lists its main procedures with the short
romanised keys used under ``processes/<code>-<slug>/<key>.<ext>``.

Provenance follows the domain notes: ``"S"`` where a cited source backs
the statement, ``"I"`` where it is inferred and still to be verified.
``provenance`` is that of the procedure list, ``status_provenance`` that of
the status.

Examples
--------
>>> from harpflow import areas
>>> len(areas.AREAS), areas.get("住基").folder, areas.get("国保").name_en
(27, '01-jumin', 'National Health Insurance')
>>> a = areas.get("03")
>>> a.status, a.abolished, a.replaced_by
('abolished', '2012-07', '住民基本台帳 (住民基本台帳法第30条の45以下)')
>>> areas.get("01").procedure("tennyu").name_ja
'転入届'
>>> [s.name_ja for s in areas.STANDARDISED_20 if s.harp_code is None]
['児童扶養手当', '子ども・子育て支援', '戸籍の附票']

Notes
-----
The procedure lists are the main procedures of each area from the domain
notes, not an exhaustive catalogue. The status of 09 収滞納管理 and 22
住登外管理 (folded into the tax specification and the common functions)
is inferred, as is the mapping of 21 こども手当 to 児童手当.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from harpflow.errors import HarpflowError

__all__ = [
    "AREAS",
    "STANDARDISED_20",
    "STATUSES",
    "Area",
    "Procedure",
    "StandardArea",
    "UnknownAreaError",
    "get",
]

#: The four statuses an area can have today.
STATUSES = ("standardised", "merged", "abolished", "not_standardised")


class UnknownAreaError(HarpflowError, KeyError):
    """No area has this code, slug, name or alias."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown area"


@dataclass(frozen=True)
class Procedure:
    """One procedure (手続) of an area: key, Japanese and English name."""

    key: str
    name_ja: str
    name_en: str

    def to_dict(self) -> dict[str, str]:
        """Plain data for JSON."""
        return {"key": self.key, "name_ja": self.name_ja, "name_en": self.name_en}


@dataclass(frozen=True)
class Area:
    """One of HARP's 27 business areas.

    Attributes
    ----------
    code : str
        ``"01"``-``"27"``.
    slug : str
        Romanised short name, e.g. ``"jumin"``; :attr:`folder` is
        ``"01-jumin"``.
    status : str
        One of :data:`STATUSES`.
    standard_area : str or None
        The name of the standardised area among the 20 it maps to.
    merged_into : str or None
        For ``"merged"``: the specification that now covers it.
    abolished, replaced_by : str or None
        For ``"abolished"``: when (``YYYY-MM``) and what took its place.
    aliases : tuple of str
        Other names in use (住基, 国保, 後期, ...).
    """

    code: str
    slug: str
    name_ja: str
    name_en: str
    status: str
    procedures: tuple[Procedure, ...]
    standard_area: str | None = None
    merged_into: str | None = None
    abolished: str | None = None
    replaced_by: str | None = None
    provenance: str = "I"
    status_provenance: str = "S"
    note: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        """The folder name under ``processes/standard``, e.g. ``"01-jumin"``."""
        return f"{self.code}-{self.slug}"

    def procedure(self, key: str) -> Procedure:
        """The procedure with this key.

        Raises
        ------
        KeyError
            When the area has no such procedure.
        """
        for proc in self.procedures:
            if proc.key == key:
                return proc
        raise KeyError(f"area {self.folder} has no procedure {key!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (``harpflow areas --json``)."""
        return {
            "code": self.code,
            "slug": self.slug,
            "folder": self.folder,
            "name_ja": self.name_ja,
            "name_en": self.name_en,
            "status": self.status,
            "standard_area": self.standard_area,
            "merged_into": self.merged_into,
            "abolished": self.abolished,
            "replaced_by": self.replaced_by,
            "provenance": self.provenance,
            "status_provenance": self.status_provenance,
            "note": self.note,
            "aliases": list(self.aliases),
            "procedures": [p.to_dict() for p in self.procedures],
        }


@dataclass(frozen=True)
class StandardArea:
    """One of the 20 areas standardised under the 2021 law.

    ``harp_code`` is the HARP area it corresponds to, or None for the three
    areas HARP lacks.
    """

    number: int
    name_ja: str
    name_en: str
    ministry: str
    harp_code: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "number": self.number,
            "name_ja": self.name_ja,
            "name_en": self.name_en,
            "ministry": self.ministry,
            "harp_code": self.harp_code,
        }


def _p(*triples: tuple[str, str, str]) -> tuple[Procedure, ...]:
    return tuple(Procedure(*t) for t in triples)


_SAME = "same-named standardised area (list of the 20 areas, 島田市)"
_ABSENT = "not among the 20 standardised areas (by absence from the list)"

AREAS: tuple[Area, ...] = (
    Area(
        "01",
        "jumin",
        "住民基本台帳",
        "Basic Resident Register",
        "standardised",
        _p(
            ("tennyu", "転入届", "Moving-in notification"),
            ("tenshutsu", "転出届", "Moving-out notification"),
            ("tenkyo", "転居届", "Change of address within the municipality"),
            ("setai-henko", "世帯変更届", "Change of household"),
            (
                "shokken",
                "職権記載・消除・修正",
                "Entries, deletions and corrections ex officio",
            ),
            (
                "jumin-hyo-kofu",
                "住民票の写し・記載事項証明の交付",
                "Issue of copies of the resident record",
            ),
            (
                "tenshutsu-shomei",
                "転出証明書の発行",
                "Issue of the moving-out certificate",
            ),
            ("tennyu-tsuchi", "転入通知の受理", "Receipt of moving-in notices"),
            (
                "kojin-bango",
                "住民票コード・個人番号",
                "Resident code and Individual Number",
            ),
            ("shien-sochi", "支援措置 (DV等)", "Support measures for victims of abuse"),
            ("etsuran", "住民基本台帳の閲覧", "Inspection of the register"),
        ),
        standard_area="住民基本台帳",
        provenance="S",
        note=_SAME + "; spec: 住民記録システム標準仕様書 (総務省)",
        aliases=("住基", "住民記録", "住民票"),
    ),
    Area(
        "02",
        "inkan",
        "印鑑登録",
        "Seal registration",
        "standardised",
        _p(
            ("toroku", "印鑑登録申請", "Application for seal registration"),
            ("toroku-sho", "印鑑登録証の交付", "Issue of the seal registration card"),
            ("shomei", "印鑑登録証明書の交付", "Issue of seal certificates"),
            ("boshitsu", "印鑑登録証亡失届", "Report of a lost registration card"),
            ("haishi", "印鑑登録廃止届", "Cancellation of the registration"),
            ("shokken-massho", "職権抹消", "Deletion ex officio"),
        ),
        standard_area="印鑑登録",
        provenance="S",
        note=_SAME + "; added to the list when it grew from 17 to 20",
        aliases=("印鑑",),
    ),
    Area(
        "03",
        "gaikokujin",
        "外国人登録",
        "Alien registration",
        "abolished",
        _p(
            ("shinki", "新規登録", "New registration"),
            ("henko", "変更登録", "Registration of changes"),
            ("kyojuchi-henko", "居住地変更登録", "Change of place of residence"),
            (
                "genpyo-shomei",
                "登録原票記載事項証明",
                "Certificate of registered entries",
            ),
            (
                "tennyu-gaikokujin",
                "外国人住民の転入届 (住基法第30条の46)",
                "Moving-in of a foreign resident",
            ),
            (
                "nyukan-tsuchi",
                "法務省 (入管) 通知の処理",
                "Processing of immigration notices",
            ),
        ),
        abolished="2012-07",
        replaced_by="住民基本台帳 (住民基本台帳法第30条の45以下)",
        standard_area="住民基本台帳",
        provenance="S",
        note="外国人登録法 repealed; foreign residents entered in 住基. "
        "住民記録システム標準仕様書 §4.5 covers their 届出",
        aliases=("外登",),
    ),
    Area(
        "04",
        "senkyo",
        "選挙人名簿管理",
        "Electoral register",
        "standardised",
        _p(
            ("teiji-toroku", "定時登録", "Periodic registration (four times a year)"),
            ("senkyoji-toroku", "選挙時登録", "Registration at elections"),
            ("hyoji", "表示 (転出等)", "Marking of entries (moving out, ...)"),
            ("massho", "抹消", "Deletion from the register"),
            ("zaigai", "在外選挙人名簿", "Overseas electoral register"),
            ("shohon-etsuran", "抄本の閲覧", "Inspection of register extracts"),
            (
                "kensatsu-saiban",
                "検察審査員・裁判員候補者予定者の選定",
                "Selection of lay judge candidates",
            ),
        ),
        standard_area="選挙人名簿管理",
        provenance="S",
        note=_SAME,
        aliases=("選挙", "選挙人名簿"),
    ),
    Area(
        "05",
        "kotei-shisan",
        "固定資産税",
        "Fixed asset tax",
        "standardised",
        _p(
            ("kyakutai", "課税客体の把握", "Identification of taxable property"),
            ("hyoka", "評価 (土地・家屋・償却資産)", "Valuation"),
            ("kazei-daicho", "課税台帳 (名寄帳) 作成", "Tax ledger"),
            ("kakaku-kettei", "価格決定", "Decision on assessed values"),
            ("juran", "縦覧・閲覧", "Public inspection"),
            ("toshokazei", "固定資産税 当初課税", "Initial annual assessment"),
            ("shinsa-moshide", "審査申出", "Appeal to the review board"),
            ("kosei-genmen", "更正・減免", "Correction and reduction"),
            ("shomei", "評価証明・公課証明", "Valuation and tax certificates"),
        ),
        standard_area="固定資産税",
        note=_SAME + "; spec: 税務システム標準仕様書",
        aliases=("固資", "固定資産"),
    ),
    Area(
        "06",
        "kojin-juminzei",
        "個人住民税",
        "Individual inhabitant tax",
        "standardised",
        _p(
            ("shiryo-shushu", "課税資料収集", "Collection of tax data"),
            ("shinkoku", "住民税申告受付", "Receipt of tax returns"),
            ("nayose", "名寄せ・入力", "Matching and data entry"),
            ("mishinkoku", "未申告調査", "Investigation of non-filers"),
            ("toshofuka", "当初賦課", "Initial annual assessment"),
            (
                "nenkin-tokucho",
                "公的年金からの特別徴収",
                "Withholding from public pensions",
            ),
            ("ido", "異動 (退職・転勤)", "Changes of employment"),
            ("kosei", "更正", "Correction"),
            ("shomei", "所得証明・課税証明", "Income and tax certificates"),
        ),
        standard_area="個人住民税",
        note=_SAME + "; spec: 税務システム標準仕様書",
        aliases=("住民税", "市民税", "町民税", "村民税", "市町村民税"),
    ),
    Area(
        "07",
        "hojin-juminzei",
        "法人住民税",
        "Corporate inhabitant tax",
        "standardised",
        _p(
            (
                "setsuritsu",
                "法人設立・異動届受付",
                "Registration of corporations and changes",
            ),
            ("shinkoku", "申告書受付・審査", "Receipt and review of returns"),
            ("chotei", "調定", "Revenue recognition"),
            ("kosei-kettei", "更正・決定", "Correction and determination"),
            ("tokusoku", "未申告法人督促", "Reminders to non-filing corporations"),
        ),
        standard_area="法人住民税",
        note=_SAME + "; spec: 税務システム標準仕様書",
        aliases=("法人市民税", "法人町民税"),
    ),
    Area(
        "08",
        "kei-jidosha",
        "軽自動車税",
        "Light vehicle tax",
        "standardised",
        _p(
            ("toshofuka", "種別割 当初賦課", "Initial annual assessment"),
            (
                "toroku-haisha",
                "原付・小型特殊の登録・廃車",
                "Registration and deregistration of mopeds",
            ),
            (
                "data-torikomi",
                "軽自動車検査協会データ取込",
                "Import of vehicle inspection data",
            ),
            ("genmen", "減免", "Reduction"),
            (
                "nozei-shomei",
                "継続検査用納税証明",
                "Tax certificate for vehicle inspection",
            ),
        ),
        standard_area="軽自動車税",
        note=_SAME + "; spec: 税務システム標準仕様書",
        aliases=("軽自",),
    ),
    Area(
        "09",
        "shuno",
        "収滞納管理",
        "Tax collection and arrears",
        "merged",
        _p(
            ("shuno-keshikomi", "収納消込", "Reconciliation of payments"),
            ("kanpu-juto", "過誤納還付・充当", "Refunds and appropriation"),
            ("tokusoku-taino", "督促から滞納処分", "Reminders to seizure of arrears"),
            ("nofu-sodan", "納付相談・分納", "Payment consultation and instalments"),
            ("sashiosae", "差押え・換価", "Seizure and realisation"),
            ("shikko-teishi", "執行停止", "Suspension of enforcement"),
            ("funo-kesson", "不納欠損", "Write-off"),
            ("koza-furikae", "口座振替管理", "Direct debit management"),
        ),
        merged_into=(
            "税務システム標準仕様書 (固定資産税・個人住民税・法人住民税・軽自動車税)"
        ),
        status_provenance="I",
        note="not a separate area of the 20; covered inside the tax specification",
        aliases=("収納", "滞納", "収滞納"),
    ),
    Area(
        "10",
        "kokuho",
        "国民健康保険",
        "National Health Insurance",
        "standardised",
        _p(
            ("shikaku-shutoku", "国保 資格取得", "Enrolment"),
            ("shikaku-soshitsu", "国保 資格喪失", "Withdrawal"),
            ("setai-henko", "世帯変更", "Change of household"),
            (
                "shikaku-kakunin",
                "資格確認書・資格情報のお知らせ交付",
                "Issue of eligibility documents",
            ),
            ("fuka", "保険料(税)賦課・更正", "Premium assessment"),
            ("kogaku-ryoyo", "高額療養費", "High-cost medical expense benefit"),
            ("ryoyohi", "療養費", "Reimbursement of medical costs"),
            ("shussan-ikuji", "出産育児一時金", "Childbirth lump-sum allowance"),
            ("sosaihi", "葬祭費", "Funeral expense benefit"),
            ("gendogaku", "限度額適用認定", "Ceiling amount certification"),
            ("genmen", "減免", "Reduction"),
        ),
        standard_area="国民健康保険",
        note=_SAME,
        aliases=("国保",),
    ),
    Area(
        "11",
        "nenkin",
        "国民年金",
        "National Pension",
        "standardised",
        _p(
            (
                "shikaku-shutoku",
                "第1号被保険者 資格取得・種別変更届",
                "Enrolment as category 1",
            ),
            ("menjo", "保険料免除・納付猶予申請", "Premium exemption and deferral"),
            (
                "gakusei-tokurei",
                "学生納付特例申請",
                "Special payment rule for students",
            ),
            ("sanzen-sango", "産前産後期間の免除", "Exemption around childbirth"),
            ("fuka-nenkin", "付加年金", "Supplementary pension"),
            ("saitei", "裁定請求受付", "Receipt of pension claims"),
        ),
        standard_area="国民年金",
        note=_SAME + "; municipalities act as the window for 日本年金機構",
        aliases=("年金",),
    ),
    Area(
        "12",
        "shogai",
        "障害者福祉",
        "Welfare for persons with disabilities",
        "standardised",
        _p(
            ("techo", "障害者手帳の申請進達・交付", "Disability certificates"),
            (
                "shikyu-kettei",
                "障害福祉サービス支給決定",
                "Decision on welfare services",
            ),
            ("jiritsu-shien", "自立支援医療", "Medical care for independence"),
            ("hosogu", "補装具・日常生活用具", "Prosthetics and daily living aids"),
            ("kyufuhi", "給付費支払", "Payment of benefits"),
            ("teate", "各種手当", "Allowances"),
        ),
        standard_area="障害者福祉",
        note=_SAME,
        aliases=("障害福祉", "障害"),
    ),
    Area(
        "13",
        "koki-korei",
        "後期高齢者医療",
        "Medical care for the elderly (75+)",
        "standardised",
        _p(
            ("shikaku", "資格取得・喪失届受付", "Enrolment and withdrawal"),
            ("sho-kofu", "資格確認書等の交付", "Issue of eligibility documents"),
            ("hokenryo", "保険料徴収", "Premium collection"),
            ("kyufu", "給付申請受付", "Receipt of benefit claims"),
        ),
        standard_area="後期高齢者医療",
        note=_SAME + "; 広域連合 decides eligibility and premiums",
        aliases=("後期", "後期高齢"),
    ),
    Area(
        "14",
        "kaigo",
        "介護保険",
        "Long-term care insurance",
        "standardised",
        _p(
            ("shikaku", "被保険者資格", "Insured status"),
            ("hokenryo", "保険料賦課・収納・滞納", "Premiums"),
            ("nintei", "要介護認定", "Certification of care needs"),
            ("jukyusha", "受給者管理", "Recipient management"),
            ("kyufu", "給付 (高額介護・償還払い・住宅改修)", "Benefits"),
            ("sogo-jigyo", "総合事業", "Comprehensive community programme"),
            ("tokei", "統計・報告", "Statistics and reports"),
        ),
        standard_area="介護保険",
        provenance="S",
        note=_SAME + "; the 9 大分類 of the 介護保険 業務フロー",
        aliases=("介護",),
    ),
    Area(
        "15",
        "seiho",
        "生活保護",
        "Public assistance",
        "standardised",
        _p(
            (
                "shinsei-kettei",
                "相談・申請から決定",
                "Consultation, application and decision",
            ),
            ("hogohi", "保護費支給", "Payment of assistance"),
            ("homon", "訪問・ケース記録", "Home visits and case records"),
            ("henko-haishi", "変更・停止・廃止", "Change, suspension and termination"),
            ("iryo-fujo", "医療扶助 (医療券)", "Medical assistance"),
            ("shuro-shien", "就労支援", "Employment support"),
            ("hiyo-choshu", "費用徴収 (63条・78条)", "Recovery of costs"),
        ),
        standard_area="生活保護",
        provenance="S",
        note=_SAME,
        aliases=("生保",),
    ),
    Area(
        "16",
        "nyuyoji-iryo",
        "乳幼児医療",
        "Infant medical expense subsidy",
        "not_standardised",
        _p(
            ("shikaku-toroku", "受給資格登録申請", "Registration of eligibility"),
            ("jukyusha-sho", "受給者証交付", "Issue of the recipient card"),
            ("genbutsu-kyufu", "現物給付", "Benefits in kind"),
            ("shokan", "償還払い申請", "Reimbursement"),
            ("koshin", "更新", "Renewal"),
        ),
        note="local subsidy (単独事業); " + _ABSENT,
        aliases=("子ども医療", "こども医療", "こども医療費助成", "乳児医療"),
    ),
    Area(
        "17",
        "hitorioya-iryo",
        "ひとり親医療",
        "Single-parent family medical expense subsidy",
        "not_standardised",
        _p(
            ("shikaku-toroku", "受給資格登録申請", "Registration of eligibility"),
            ("jukyusha-sho", "受給者証交付", "Issue of the recipient card"),
            ("genbutsu-kyufu", "現物給付", "Benefits in kind"),
            ("shokan", "償還払い申請", "Reimbursement"),
            ("genkyo", "現況届 (年次更新)", "Annual status report"),
        ),
        note="local subsidy (単独事業); " + _ABSENT,
        aliases=("母子医療", "ひとり親家庭等医療費助成"),
    ),
    Area(
        "18",
        "kenko",
        "健康管理",
        "Health management",
        "standardised",
        _p(
            ("ninshin", "妊娠届・母子健康手帳交付", "Pregnancy notification"),
            ("ninpu-kenshin", "妊婦健診受診券", "Prenatal check-up vouchers"),
            ("shinseiji-homon", "新生児訪問", "Newborn home visits"),
            ("nyuyoji-kenshin", "乳幼児健診", "Infant health check-ups"),
            ("yobo-sesshu", "予防接種", "Vaccinations"),
            ("seijin-kenshin", "成人健診・がん検診", "Adult and cancer screening"),
            ("tokutei-kenshin", "特定健診", "Specific health check-ups"),
            ("hoken-shido", "保健指導", "Health guidance"),
        ),
        standard_area="健康管理",
        note=_SAME,
        aliases=("健康", "母子保健"),
    ),
    Area(
        "19",
        "shugaku",
        "就学",
        "School enrolment",
        "standardised",
        _p(
            ("gakureibo", "学齢簿編製", "School-age register"),
            ("shugakuji-kenshin", "就学時健康診断", "Pre-school health check"),
            ("shugaku-tsuchi", "就学通知", "Enrolment notice"),
            ("shinnyugaku", "新入学", "New school entry"),
            ("shiteiko-henko", "指定校変更・区域外就学", "Change of designated school"),
            ("tennyugaku", "転入学・転学", "Transfers"),
            ("shugaku-enjo", "就学援助", "School expense aid"),
        ),
        standard_area="就学",
        provenance="S",
        note=_SAME + "; spec: 就学事務システム(学齢簿編製等)標準仕様書",
        aliases=("学齢簿",),
    ),
    Area(
        "20",
        "koseki",
        "戸籍",
        "Family register",
        "standardised",
        _p(
            ("konin", "婚姻届", "Marriage notification"),
            ("shussei", "出生届", "Birth notification"),
            ("rikon", "離婚届", "Divorce notification"),
            ("shibo", "死亡届", "Death notification"),
            ("tenseki", "転籍届", "Transfer of registered domicile"),
            ("yoshi-engumi", "養子縁組届", "Adoption notification"),
            ("shomei", "戸籍証明 (謄抄本・広域交付)", "Family register certificates"),
            ("fujuri-moshide", "不受理申出", "Request not to accept notifications"),
        ),
        standard_area="戸籍",
        note=_SAME + "; 戸籍の附票 is a separate standardised area",
    ),
    Area(
        "21",
        "kodomo-teate",
        "こども手当",
        "Child allowance",
        "standardised",
        _p(
            ("nintei-seikyu", "認定請求", "Claim for certification"),
            ("gaku-kaitei", "額改定", "Revision of the amount"),
            ("shometsu", "消滅", "Termination"),
            ("genkyo", "現況届", "Annual status report"),
            ("shiharai", "支払", "Payment"),
        ),
        standard_area="児童手当",
        status_provenance="I",
        note="子ども手当 (2010-2012) reverted to 児童手当, which is standardised",
        aliases=("子ども手当", "児童手当", "児手"),
    ),
    Area(
        "22",
        "jutogai",
        "住登外管理",
        "Management of non-resident addressees",
        "merged",
        _p(
            (
                "atena-toroku",
                "住登外者の宛名登録",
                "Registration of non-resident addressees",
            ),
            ("nayose", "名寄せ", "Matching of addressees"),
            ("jusho-henko", "住所変更の反映", "Reflection of address changes"),
        ),
        merged_into="共通機能標準仕様書 (住登外者宛名番号管理・団体内統合宛名)",
        status_provenance="I",
        note="handled by the common functions of the standard specifications",
        aliases=("住登外",),
    ),
    Area(
        "23",
        "zaimu",
        "財務会計",
        "Financial accounting",
        "not_standardised",
        _p(
            ("yosan-hensei", "予算編成", "Budget compilation"),
            ("yosan-haito", "予算配当・令達", "Budget allocation"),
            (
                "buppin-shishutsu",
                "物品購入の支出",
                "Expenditure for the purchase of goods",
            ),
            ("chotei-shunyu", "調定・収入", "Revenue recognition and receipt"),
            ("ryuyo-juyo", "予算流用・充用", "Budget transfers"),
            ("kessan", "決算", "Settlement of accounts"),
        ),
        provenance="S",
        note="internal administration; " + _ABSENT + ". A 財務会計 standard "
        "specification is unverified and doubtful",
        aliases=("財務",),
    ),
    Area(
        "24",
        "jinji",
        "人事給与",
        "Personnel and payroll",
        "not_standardised",
        _p(
            ("hatsurei", "発令 (採用・異動・昇任)", "Appointments"),
            ("kintai", "勤怠・時間外", "Attendance and overtime"),
            ("kyuyo", "給与計算・支給", "Payroll"),
            ("teate-nintei", "手当認定", "Allowance certification"),
            ("kimatsu-kinben", "期末勤勉手当", "Bonuses"),
            ("nenmatsu-chosei", "年末調整", "Year-end tax adjustment"),
            ("kyosai", "共済・社会保険", "Mutual aid and social insurance"),
            ("kaikei-nendo", "会計年度任用職員の任用", "Fiscal-year appointees"),
        ),
        note="internal administration; " + _ABSENT,
        aliases=("人事", "給与"),
    ),
    Area(
        "25",
        "bunsho",
        "文書管理",
        "Document management",
        "not_standardised",
        _p(
            ("shuju-hozon", "収受から保存", "From receipt to filing"),
            ("kian-kessai", "起案・回議・決裁", "Drafting and approval"),
            ("shiko", "施行 (浄書・公印・発送)", "Issuing documents"),
            ("hozon-haiki", "保存・廃棄・移管", "Retention, disposal and transfer"),
            ("kokai-seikyu", "公開請求対応", "Freedom of information requests"),
        ),
        note="internal administration; " + _ABSENT,
        aliases=("文書",),
    ),
    Area(
        "26",
        "judo-iryo",
        "重度医療",
        "Medical expense subsidy for persons with severe disabilities",
        "not_standardised",
        _p(
            ("shikaku-toroku", "受給者登録", "Registration of recipients"),
            ("jukyusha-sho", "受給者証交付", "Issue of the recipient card"),
            ("genbutsu-kyufu", "現物給付", "Benefits in kind"),
            ("shokan", "償還払い申請", "Reimbursement"),
        ),
        note="local subsidy (単独事業); " + _ABSENT,
        aliases=("重度心身障害者医療", "重心医療"),
    ),
    Area(
        "27",
        "kokaikei",
        "公会計",
        "Public sector accounting",
        "not_standardised",
        _p(
            ("kotei-shisan-daicho", "固定資産台帳の整備・更新", "Fixed asset register"),
            ("shiwake", "仕訳 (日々仕訳・期末一括仕訳)", "Journal entries"),
            ("zaimu-shorui", "財務書類4表の作成・公表", "Financial statements"),
        ),
        note="internal administration; " + _ABSENT + ". 統一的な基準による地方公会計"
        "マニュアル is an accounting standard, not a flow specification",
        aliases=("地方公会計",),
    ),
)

#: The 20 areas standardised under the 2021 law, in the order of the
#: published list; ``harp_code`` links each to a HARP area where one exists.
STANDARDISED_20: tuple[StandardArea, ...] = (
    StandardArea(1, "住民基本台帳", "Basic Resident Register", "総務省", "01"),
    StandardArea(2, "選挙人名簿管理", "Electoral register", "総務省", "04"),
    StandardArea(3, "固定資産税", "Fixed asset tax", "総務省", "05"),
    StandardArea(4, "個人住民税", "Individual inhabitant tax", "総務省", "06"),
    StandardArea(5, "法人住民税", "Corporate inhabitant tax", "総務省", "07"),
    StandardArea(6, "軽自動車税", "Light vehicle tax", "総務省", "08"),
    StandardArea(7, "国民健康保険", "National Health Insurance", "厚生労働省", "10"),
    StandardArea(8, "国民年金", "National Pension", "厚生労働省", "11"),
    StandardArea(
        9, "障害者福祉", "Welfare for persons with disabilities", "厚生労働省", "12"
    ),
    StandardArea(
        10, "後期高齢者医療", "Medical care for the elderly (75+)", "厚生労働省", "13"
    ),
    StandardArea(11, "介護保険", "Long-term care insurance", "厚生労働省", "14"),
    StandardArea(12, "児童手当", "Child allowance", "こども家庭庁", "21"),
    StandardArea(13, "健康管理", "Health management", "厚生労働省", "18"),
    StandardArea(14, "就学", "School enrolment", "文部科学省", "19"),
    StandardArea(15, "児童扶養手当", "Child rearing allowance", "こども家庭庁", None),
    StandardArea(16, "生活保護", "Public assistance", "厚生労働省", "15"),
    StandardArea(
        17,
        "子ども・子育て支援",
        "Child and child-rearing support",
        "こども家庭庁",
        None,
    ),
    StandardArea(18, "印鑑登録", "Seal registration", "総務省", "02"),
    StandardArea(19, "戸籍", "Family register", "法務省", "20"),
    StandardArea(
        20,
        "戸籍の附票",
        "Supplementary family register (koseki no fuhyo)",
        "総務省",
        None,
    ),
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _index() -> dict[str, Area]:
    index: dict[str, Area] = {}
    for area in AREAS:
        keys = (
            area.code,
            str(int(area.code)),
            area.slug,
            area.folder,
            area.name_ja,
            area.name_en,
            *area.aliases,
        )
        for key in keys:
            index.setdefault(_fold(key), area)
    return index


_INDEX = _index()


def get(key: str | int) -> Area:
    """The area for a code (``"01"``, ``1``), slug, folder, name or alias.

    Raises
    ------
    UnknownAreaError
        When nothing matches.

    Examples
    --------
    >>> get(14).slug, get("kaigo").code, get("01-jumin").name_ja, get("後期").code
    ('kaigo', '14', '住民基本台帳', '13')
    """
    text = _fold(str(key))
    try:
        return _INDEX[text]
    except KeyError:
        raise UnknownAreaError(f"no business area {key!r}") from None
