"""The demo scenario as plain data: a Kyiv real-estate agency, its people, numbers and traffic.

Riverside Realty sells and lets flats in Kyiv. Paid traffic (Google Ads, Meta ads) and the
rest of the website traffic see numbers from one pool; the Google Business Profile listing,
a billboard and a radio spot each have their own static number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ORGANIZATION_NAME = "Riverside Realty"
PROJECT_NAME = "Riverside Realty Kyiv"
DOMAIN = "riverside-realty.example"
TIMEZONE = "Europe/Kyiv"
CURRENCY = "UAH"
COUNTRY = "UA"
MAIN_NUMBER = "+380442900100"
OFFICE_NUMBER = "+380442900101"

DEMO_EMAIL = "demo@ringtrail.example"
DEMO_PASSWORD = "ringtrail-demo"  # noqa: S105 - published on purpose, see docs/cli.md


@dataclass(frozen=True)
class Person:
    """A demo dashboard user and the role they hold in the project."""

    email: str
    name: str
    role: str


PEOPLE = (
    Person(DEMO_EMAIL, "Demo Owner", "owner"),
    Person("sales@ringtrail.example", "Olena Kovalenko", "sales"),
    Person("viewer@ringtrail.example", "Andrii Melnyk", "viewer"),
)


@dataclass(frozen=True)
class Campaign:
    """A campaign of one channel, with the keywords and pages its ads lead to."""

    name: str
    weight: float
    landing_paths: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    cost_per_click: Decimal = Decimal("0")


@dataclass(frozen=True)
class Channel:
    """One way visitors arrive: how its visits are labelled and how likely they are to call."""

    key: str
    source: str
    medium: str
    channel: str
    weight: float
    call_rate: float
    referrers: tuple[str, ...] = ()
    utm: bool = False
    click_id: str | None = None
    campaigns: tuple[Campaign, ...] = ()
    rule: str = "other"
    weekday_boost: dict[int, float] = field(default_factory=dict)


BUY = ("/buy", "/buy/apartments", "/buy/new-builds", "/listings/pechersk", "/listings/podil")
RENT = ("/rent", "/rent/apartments", "/listings/obolon", "/listings/osokorky")
ORGANIC = ("/", "/buy", "/rent", "/blog/mortgage-guide", "/blog/kyiv-districts", "/contacts")

CHANNELS = (
    Channel(
        "google_ads",
        "google",
        "cpc",
        "paid_search",
        30,
        0.075,
        referrers=("https://www.google.com/",),
        utm=True,
        click_id="gclid",
        rule="google_ads",
        campaigns=(
            Campaign(
                "Search - Buy apartment Kyiv",
                0.5,
                BUY,
                (
                    "buy apartment kyiv",
                    "квартира київ купити",
                    "2 room flat pechersk",
                    "apartment podil price",
                    "new build kyiv",
                ),
                Decimal("18.50"),
            ),
            Campaign(
                "Search - Rent Kyiv",
                0.3,
                RENT,
                ("rent apartment kyiv", "оренда квартири київ", "flat for rent obolon"),
                Decimal("11.20"),
            ),
            Campaign(
                "Performance Max - New builds",
                0.2,
                ("/buy/new-builds", "/listings/osokorky"),
                ("(performance max)",),
                Decimal("9.80"),
            ),
        ),
    ),
    Channel(
        "meta_ads",
        "facebook",
        "paid_social",
        "paid_social",
        14,
        0.04,
        referrers=("https://m.facebook.com/", "https://l.instagram.com/"),
        utm=True,
        click_id="fbclid",
        rule="meta_ads",
        campaigns=(
            Campaign(
                "Leads - Pechersk new builds",
                0.6,
                ("/buy/new-builds", "/listings/pechersk"),
                cost_per_click=Decimal("7.40"),
            ),
            Campaign(
                "Retargeting - Viewed listings", 0.4, BUY + RENT, cost_per_click=Decimal("5.10")
            ),
        ),
    ),
    Channel(
        "google_organic",
        "google",
        "organic",
        "organic_search",
        20,
        0.06,
        referrers=("https://www.google.com/", "https://www.google.com.ua/"),
        campaigns=(Campaign("", 1, ORGANIC),),
        rule="organic",
    ),
    Channel(
        "bing_organic",
        "bing",
        "organic",
        "organic_search",
        2.5,
        0.05,
        referrers=("https://www.bing.com/",),
        campaigns=(Campaign("", 1, ORGANIC),),
        rule="organic",
    ),
    Channel(
        "yandex_organic",
        "yandex",
        "organic",
        "organic_search",
        2,
        0.04,
        referrers=("https://yandex.ua/", "https://yandex.com/"),
        campaigns=(Campaign("", 1, ORGANIC),),
        rule="organic",
    ),
    Channel(
        "social",
        "facebook.com",
        "referral",
        "organic_social",
        6,
        0.025,
        referrers=("https://www.facebook.com/", "https://l.instagram.com/", "https://t.me/"),
        campaigns=(Campaign("", 1, ("/", "/listings/podil", "/blog/kyiv-districts")),),
    ),
    Channel(
        "direct",
        "(direct)",
        "(none)",
        "direct",
        16,
        0.08,
        campaigns=(Campaign("", 1, ("/", "/contacts", "/buy", "/rent")),),
    ),
    Channel(
        "email",
        "newsletter",
        "email",
        "email",
        4,
        0.05,
        utm=True,
        campaigns=(
            Campaign(
                "Weekly listings", 1, ("/listings/pechersk", "/listings/podil", "/listings/obolon")
            ),
        ),
        weekday_boost={1: 4.0, 2: 1.8},
    ),
    Channel(
        "gbp",
        "google_business_profile",
        "organic",
        "organic_search",
        2.5,
        0.05,
        referrers=("https://www.google.com/",),
        utm=True,
        campaigns=(Campaign("gbp-listing", 1, ("/", "/contacts")),),
        rule="gbp",
    ),
)


@dataclass(frozen=True)
class StaticNumber:
    """A number that always means one source; offline ones are never shown on the site."""

    key: str
    label: str
    source: str
    medium: str
    campaign: str | None
    offline_only: bool
    calls_per_day: float


STATIC_NUMBERS = (
    StaticNumber(
        "gbp",
        "Google Business Profile",
        "google_business_profile",
        "organic",
        "gbp-listing",
        False,
        0.9,
    ),
    StaticNumber(
        "billboard",
        "Billboard - Peremohy Ave",
        "billboard",
        "offline",
        "Spring billboard",
        True,
        0.35,
    ),
    StaticNumber(
        "radio", "Radio spot - morning show", "radio", "offline", "Radio morning show", True, 0.3
    ),
)

POOL_NAME = "Website visitors"
POOL_SIZE = 12

TAGS = (
    ("price question", "#2f80ed"),
    ("booking", "#27ae60"),
    ("mortgage", "#9b51e0"),
    ("rent", "#f2994a"),
    ("spam", "#eb5757"),
)

FIRST_NAMES = (
    "Oleksandr",
    "Olena",
    "Andrii",
    "Iryna",
    "Dmytro",
    "Natalia",
    "Serhii",
    "Tetiana",
    "Maksym",
    "Yulia",
    "Bohdan",
    "Kateryna",
    "Taras",
    "Oksana",
    "Viktor",
    "Sofiia",
)
LAST_NAMES = (
    "Shevchenko",
    "Bondarenko",
    "Tkachenko",
    "Kravchenko",
    "Boyko",
    "Kovalchuk",
    "Oliinyk",
    "Lysenko",
    "Moroz",
    "Pavlenko",
    "Savchenko",
    "Rudenko",
)

CITIES = (
    ("UA", "Kyiv City", "Kyiv", 70),
    ("UA", "Kyiv Oblast", "Brovary", 8),
    ("UA", "Kyiv Oblast", "Irpin", 6),
    ("UA", "Lviv Oblast", "Lviv", 4),
    ("UA", "Dnipropetrovsk Oblast", "Dnipro", 3),
    ("UA", "Odesa Oblast", "Odesa", 3),
    ("PL", "Masovian", "Warsaw", 3),
    ("DE", "Berlin", "Berlin", 2),
    ("US", "New York", "New York", 1),
)

DEVICES = (
    (
        "mobile",
        "Chrome Mobile",
        "Android",
        40,
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Mobile Safari/537.36",
    ),
    (
        "mobile",
        "Mobile Safari",
        "iOS",
        25,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    ),
    (
        "desktop",
        "Chrome",
        "Windows",
        20,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36",
    ),
    (
        "desktop",
        "Safari",
        "macOS",
        8,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
    ),
    (
        "tablet",
        "Mobile Safari",
        "iPadOS",
        4,
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
    ),
)
BOT_USER_AGENT = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"

COMMENTS = (
    "Looking for a 2-room flat in Pechersk, budget around 120k USD.",
    "Wants a viewing on Saturday; sent three listings by e-mail.",
    "Asked about a mortgage with a state programme; passed to the broker.",
    "Long-term rent in Obolon, moving in next month.",
    "Called back, no answer; will try again tomorrow.",
)
