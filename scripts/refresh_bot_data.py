"""Refresh the bot-detection data from public sources: a maintainer's step, never run by the app.

Three outputs, each from local checkouts of public repositories (clone them first; nothing
here is run by Ringtrail itself, and the app never downloads anything):

* `crawlers`: `src/ringtrail/domain/crawler_list.py`, the crawler patterns the product matches
  at run time, from monperrus/crawler-user-agents (MIT), `crawler-user-agents.json`.
* `datacentres`: `src/ringtrail/domain/datacentre_ranges.py`, the address ranges of major
  cloud providers (the opt-in data-centre signal), from lord-alfred/ipranges (CC0-1.0).
* `corpus`: `tests/domain/bot_corpus/crawlers.tsv` and `browsers.tsv`, the labelled test
  corpus, from crawler-user-agents, ua-parser/uap-core (Apache-2.0) test resources,
  faisalman/ua-parser-js (AGPL-3.0) test data, plus `inapp_browsers.tsv` (kept by hand).

    git clone --depth 1 https://github.com/monperrus/crawler-user-agents
    git clone --depth 1 https://github.com/ua-parser/uap-core
    git clone --depth 1 https://github.com/faisalman/ua-parser-js
    git clone --depth 1 https://github.com/lord-alfred/ipranges
    python scripts/refresh_bot_data.py crawlers crawler-user-agents
    python scripts/refresh_bot_data.py datacentres ipranges
    python scripts/refresh_bot_data.py corpus crawler-user-agents uap-core ua-parser-js

Then run `python bench/bot_bench.py` and `pytest tests/domain/test_bot_corpus.py`, and write
the new figures in docs/sources.md and bench/README.md.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CRAWLER_MODULE = ROOT / "src/ringtrail/domain/crawler_list.py"
RANGES_MODULE = ROOT / "src/ringtrail/domain/datacentre_ranges.py"
CORPUS = ROOT / "tests/domain/bot_corpus"

# crawler-user-agents tags -> our bot kinds (domain.bots.BOT_KINDS); the first tag that maps wins.
TAG_KINDS = (
    ("browser-automation", "automation"),
    ("http-library", "http_client"),
    ("social-preview", "link_preview"),
    ("monitoring", "site_checker"),
    ("scanner", "security_scanner"),
    ("feed-reader", "feed_reader"),
)
# Entries of the crawler list whose instances are people's browsers, not crawlers: Meta's and
# Instagram's in-app browsers (they name no crawler, only a build id or the app). They are
# kept out of the run-time patterns and labelled `browser` in the corpus.
NOT_CRAWLERS = frozenset({r"AP3A\.240617\.008", "MetaIAB Facebook"})
PER_BRAND = 4
CLOUD_PROVIDERS = ("amazon", "google", "microsoft", "oracle", "digitalocean", "linode", "vultr")

# Browser families (uap-core names) that people browse with; a corpus browser must be one.
BROWSER_FAMILIES = frozenset(
    {
        "Chrome", "Chrome Mobile", "Chrome Mobile iOS", "Chrome Mobile WebView", "Chromium",
        "Firefox", "Firefox Mobile", "Firefox iOS", "Firefox Beta", "Safari", "Mobile Safari",
        "Mobile Safari UI/WKWebView", "Edge", "Edge Mobile", "IE", "IE Mobile", "Opera",
        "Opera Mobile", "Opera Mini", "Opera Touch", "Samsung Internet", "Yandex Browser",
        "UC Browser", "Brave", "Vivaldi", "Whale", "QQ Browser", "QQ Browser Mobile",
        "MiuiBrowser", "Huawei Browser", "HeyTapBrowser", "Honor Browser", "Facebook",
        "Instagram", "Pinterest", "WeChat Browser", "Weibo", "LINE", "Snapchat", "Amazon Silk",
        "DuckDuckGo Mobile", "Google", "Coc Coc", "Android", "Avast Secure Browser",
        "Aloha Browser", "Seznam prohlížeč", "Puffin", "Sogou Explorer", "Baidu Browser",
        "Maxthon", "Pale Moon", "Waterfox", "Sleipnir", "Mint Browser", "Silk", "Kiwi",
        "Ecosia", "Yandex Browser Lite", "Edge WebView", "NAVER", "KAKAOTALK", "Twitter",
        "LinkedIn", "TikTok",
    }
)  # fmt: skip
# ua-parser-js browser names that are people's browsers.
UAPJS_BROWSERS = frozenset(
    {
        "Chrome", "Mobile Chrome", "Chrome WebView", "Chromium", "Firefox", "Mobile Firefox",
        "Safari", "Mobile Safari", "Edge", "Opera", "Opera Mini", "Opera Mobi", "Opera GX",
        "Samsung Internet", "Yandex", "UCBrowser", "Brave", "Vivaldi", "Whale", "QQBrowser",
        "MIUI Browser", "Huawei Browser", "Facebook", "Instagram", "WeChat", "Line",
        "KAKAOTALK", "NAVER", "Snapchat", "TikTok", "Twitter", "LinkedIn", "Zalo", "GSA",
        "DuckDuckGo", "Ecosia", "Silk", "Coc Coc", "Maxthon", "Baidu", "Sogou Mobile", "360",
        "Avast Secure Browser", "Klarna", "Alipay", "weibo", "Daum", "Pinterest", "Quark",
        "Vivo Browser", "HeyTap", "Smart Lenovo Browser", "Edge WebView", "Edge WebView2",
    }
)  # fmt: skip
IN_APPS = (
    ("facebook", re.compile(r"FBAN/|FBAV/|FB_IAB/|FBIOS|\[FB")),
    ("instagram", re.compile(r"\bInstagram[ /]\d")),
    ("tiktok", re.compile(r"musical_ly|BytedanceWebview|\bTikTok\b|trill_\d", re.I)),
    ("telegram", re.compile(r"Telegram-(?:Android|iOS)/")),
    ("viber", re.compile(r"\bViber/")),
    (
        "other_app",
        re.compile(r"\bLine/|KAKAOTALK|NAVER\(|Snapchat|Pinterest|MicroMessenger|Twitter"),
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    crawlers = commands.add_parser("crawlers", help="regenerate the run-time crawler patterns")
    crawlers.add_argument("crawler_user_agents", type=Path)
    ranges = commands.add_parser("datacentres", help="regenerate the data-centre ranges")
    ranges.add_argument("ipranges", type=Path)
    corpus = commands.add_parser("corpus", help="rebuild the labelled test corpus")
    corpus.add_argument("crawler_user_agents", type=Path)
    corpus.add_argument("uap_core", type=Path)
    corpus.add_argument("ua_parser_js", type=Path)
    args = parser.parse_args()
    if args.command == "crawlers":
        write_crawler_module(args.crawler_user_agents)
    elif args.command == "datacentres":
        write_ranges_module(args.ipranges)
    else:
        write_corpus(args.crawler_user_agents, args.uap_core, args.ua_parser_js)


def revision(checkout: Path) -> str:
    """The checkout's commit and date, as the data's provenance."""
    out = subprocess.run(  # noqa: S603 (a maintainer's own checkout)
        ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def formatted(module: Path) -> None:
    """Format a generated module as the repository does (ruff, from the dev extra)."""
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(module)], check=True)  # noqa: S603


def crawler_entries(checkout: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(
        (checkout / "crawler-user-agents.json").read_text(encoding="utf-8")
    )
    return entries


def kind_of(tags: list[str]) -> str:
    for tag, kind in TAG_KINDS:
        if tag in tags:
            return kind
    return "crawler"


def write_crawler_module(checkout: Path) -> None:
    entries = [e for e in crawler_entries(checkout) if e["pattern"] not in NOT_CRAWLERS]
    rows = []
    for entry in entries:
        re.compile(entry["pattern"])  # every pattern must compile in Python
        rows.append(f"    ({entry['pattern']!r}, {kind_of(entry.get('tags', []))!r}),")
    text = f'''"""Crawler User-Agent patterns, with our bot kind for each.

Source: monperrus/crawler-user-agents, `crawler-user-agents.json` (MIT licence,
Copyright (c) 2017 Martin Monperrus), {len(rows)} patterns,
revision {revision(checkout)}. Generated: do not edit.
Regenerate with `python scripts/refresh_bot_data.py crawlers <checkout>` (docs/sources.md).
Patterns are case-sensitive regular expressions, matched after in-app and carrier fields
are cut from the User-Agent (domain.bots).
"""

CRAWLER_PATTERNS: tuple[tuple[str, str], ...] = (
{chr(10).join(rows)}
)
'''
    CRAWLER_MODULE.write_text(text, encoding="utf-8")
    formatted(CRAWLER_MODULE)
    print(f"{len(rows)} patterns -> {CRAWLER_MODULE.relative_to(ROOT)}")


def write_ranges_module(checkout: Path) -> None:
    lines: list[str] = []
    total = 0
    for provider in CLOUD_PROVIDERS:
        networks: list[str] = []
        for name in ("ipv4_merged.txt", "ipv6_merged.txt"):
            path = checkout / provider / name
            if path.exists():
                for raw in path.read_text().split():
                    networks.append(str(ipaddress.ip_network(raw.strip(), strict=False)))
        total += len(networks)
        lines.append(f"    {provider!r}: (")
        lines += [f"        {n!r}," for n in networks]
        lines.append("    ),")
    text = f'''"""Address ranges of major cloud providers, for the opt-in data-centre signal.

Source: lord-alfred/ipranges (CC0-1.0), which collects each provider's published ranges
daily; revision {revision(checkout)}. Generated: do not edit.
{total} networks of {", ".join(CLOUD_PROVIDERS)}.
Google's list is all of Google's published ranges (goog.txt and cloud.json), Microsoft's
holds Azure and Microsoft 365: office and proxy traffic from them counts too, which is one
reason the signal is opt-in.
Regenerate with `python scripts/refresh_bot_data.py datacentres <checkout>` (docs/sources.md).
Apple's iCloud Private Relay, Cloudflare (WARP) and VPN ranges are left out on purpose:
people browse from them.
"""

DATACENTRE_RANGES: dict[str, tuple[str, ...]] = {{
{chr(10).join(lines)}
}}
'''
    RANGES_MODULE.write_text(text, encoding="utf-8")
    formatted(RANGES_MODULE)
    print(f"{total} networks -> {RANGES_MODULE.relative_to(ROOT)}")


def clean(agent: str) -> str:
    return " ".join(agent.replace("\t", " ").split())


def category(agent: str, device: str) -> str:
    for app, pattern in IN_APPS:
        if pattern.search(agent):
            return f"in_app:{app}"
    if "; wv)" in agent or " wv)" in agent:
        return "webview"
    return device


def device_of(agent: str) -> str:
    if re.search(r"iPad|Tablet|SM-T|SM-X|Kindle|Silk/", agent):
        return "tablet"
    if re.search(r"Mobi|iPhone|iPod|Android|Windows Phone|Opera Mini|BlackBerry", agent):
        return "mobile"
    return "desktop"


def write_corpus(crawlers: Path, uap_core: Path, ua_parser_js: Path) -> None:
    import ua_parser

    CORPUS.mkdir(parents=True, exist_ok=True)
    cua_rev = revision(crawlers).split()[0][:12]
    rows = ["source\tpattern\ttags\tlabel\tuser_agent"]
    seen: set[str] = set()
    browsers_in_list: list[tuple[str, str]] = []
    for entry in crawler_entries(crawlers):
        for agent in entry.get("instances", []):
            agent = clean(agent)
            if not agent or agent in seen:
                continue
            seen.add(agent)
            if entry["pattern"] in NOT_CRAWLERS:
                browsers_in_list.append((f"crawler-user-agents@{cua_rev}", agent))
                continue
            tags = ",".join(entry.get("tags", []))
            label = kind_of(entry.get("tags", []))
            rows.append(
                f"crawler-user-agents@{cua_rev}\t{entry['pattern']}\t{tags}\t{label}\t{agent}"
            )
    (CORPUS / "crawlers.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows) - 1} crawlers")

    browsers: dict[str, tuple[str, str, str]] = {}

    def add(source: str, agent: str, family: str) -> None:
        agent = clean(agent)
        device = ua_parser.parse_device(agent) if agent else None
        if device is not None and device.family == "Spider":
            return  # uap-core itself calls it a crawler (e.g. "Google Web Preview")
        if not agent.startswith(("Mozilla/", "Opera/")):
            return  # an app's API client or a fetcher ("Pinterest/0.2 (+http://...)"), no page
        if agent and agent not in browsers and agent not in seen:
            browsers[agent] = (source, family, category(agent, device_of(agent)))

    uap_rev = revision(uap_core).split()[0][:12]
    for name in ("tests/test_ua.yaml", "test_resources/firefox_user_agent_strings.yaml"):
        for case in yaml.safe_load((uap_core / name).read_text(encoding="utf-8"))["test_cases"]:
            if case["family"] in BROWSER_FAMILIES:
                add(f"uap-core@{uap_rev}:{name}", case["user_agent_string"], case["family"])
    taken: dict[tuple[str, str], int] = {}
    for name in ("tests/test_device.yaml", "tests/test_os.yaml"):
        for case in yaml.safe_load((uap_core / name).read_text(encoding="utf-8"))["test_cases"]:
            agent = case["user_agent_string"]
            if case.get("family") == "Spider":
                continue
            parsed = ua_parser.parse(agent)
            family = parsed.user_agent.family if parsed.user_agent else "Other"
            # test_device.yaml holds 16,000 phones: a few per browser and brand are enough.
            group = (family, str(case.get("brand") or case.get("family")))
            wanted = family in BROWSER_FAMILIES and re.search(r"Mozilla/5\.0", agent)
            if wanted and taken.get(group, 0) < PER_BRAND:
                taken[group] = taken.get(group, 0) + 1
                add(f"uap-core@{uap_rev}:{name}", agent, family)
    js_rev = revision(ua_parser_js).split()[0][:12]
    data = ua_parser_js / "test/data/ua"
    for path in sorted(data.rglob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            expect = case.get("expect", {})
            name = expect.get("name") if "browser" in path.parts else None
            agent = case.get("ua", "")
            if name in UAPJS_BROWSERS or (
                "device" in path.parts
                and expect.get("type") in ("mobile", "tablet")
                and agent.startswith("Mozilla/5.0")
            ):
                add(f"ua-parser-js@{js_rev}:{path.relative_to(ua_parser_js)}", agent, name or "")
    for source, agent in browsers_in_list:
        add(source, agent, "in-app browser listed as a crawler")
    out = ["source\tfamily\tcategory\tuser_agent"]
    out += [f"{s}\t{f}\t{c}\t{a}" for a, (s, f, c) in browsers.items()]
    (CORPUS / "browsers.tsv").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(out) - 1} browsers (plus inapp_browsers.tsv, kept by hand)")
    stamp = datetime.now(UTC).date().isoformat()
    (CORPUS / "REVISIONS").write_text(
        f"built {stamp}\ncrawler-user-agents {revision(crawlers)}\n"
        f"uap-core {revision(uap_core)}\nua-parser-js {revision(ua_parser_js)}\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    sys.exit(main())
