"""Write data/modern/modern_sms.tsv: synthetic SMS in the style of 2018-2025 traffic, labelled by construction.

The SMS Spam Collection (2012) has no shortened links, smishing, one-time codes or Hinglish, so a model trained on
it alone flags legitimate OTPs and bank alerts. This generator fills templates (many per category, different
sentence shapes) with slot values drawn from lists, then adds casing, punctuation, emoji, sender-prefix and
opt-out noise. The category decides the label; promotional marketing counts as spam, as in the evaluation set,
whether unsolicited (promo_offer) or from a brand the user joined (promo_optin); that brand's order, points and
receipt texts (brand_transactional, drawn from the same MEMBER_BRANDS) are ham.
Cues are spread over both labels on purpose (links, brands, money, codes, "urgent" appear in ham too) so that the
model has to learn what generalises rather than a template.

Seeded and stdlib-only: the same seed writes the same file, byte for byte. No output text shares a
`dedup_key` with the probe (data/probe/modern_sms.tsv) or with the SMS Spam Collection.

    PYTHONPATH=src python scripts/generate_modern_sms.py            # (re)write the TSV, print counts
    PYTHONPATH=src python scripts/generate_modern_sms.py --check    # exit 1 if the committed TSV is stale
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spam_service.pipeline.dataset import dedup_key, read_collection

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "data" / "modern" / "modern_sms.tsv"
PROBE = REPO_ROOT / "data" / "probe" / "modern_sms.tsv"
COLLECTION = REPO_ROOT / "data" / "raw" / "SMSSpamCollection"
SEED = 2026
PER_LABEL = 2200
ATTEMPTS_PER_MESSAGE = 60  # a category whose templates run out of distinct texts stops short, and the counts say so

Slot = Callable[[random.Random], str]

# ---------------------------------------------------------------------------------------------------------------
# Slot values. Phone numbers are in reserved/fictional ranges; IPs in the documentation ranges (RFC 5737).
# ---------------------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aarav Priya Rohan Ananya Vikram Neha Arjun Kavya Rahul Pooja Sam Emma Olivia Liam Noah Ava Mia Lucas Ethan "
    "Sophie Jack Chloe Harry Grace Leo Zara Omar Fatima Chen Mei Diego Lucia Tom Ellie Ben Ruby Kabir Isha Dev Tara"
).split()
CITIES = (
    "London Leeds Manchester Bristol Mumbai Delhi Pune Bengaluru Chennai Dallas Austin Denver Seattle Boston".split()
)
STREETS = ("High St", "Station Rd", "MG Road", "Park Ave", "Church Lane", "Main St", "Linking Rd", "Oak Drive")
DOCTORS = ("Dr. Rao", "Dr. Evans", "Dr. Mehta", "Dr. Lopez", "Dr. Kim", "Dr. Shah", "Dr. Hughes", "Dr. Iyer")
SHORTENERS = ("bit.ly", "tinyurl.com", "t.co", "cutt.ly", "is.gd", "rb.gy", "shorturl.at", "tiny.cc")
TLDS = ("com", "net", "info", "top", "xyz", "online", "co", "support", "help", "site", "in", "uk", "live", "app")
LINK_WORDS = (
    "verify secure update help pay claim refund redelivery track support login portal center service account "
    "kyc alert unlock billing renew fee notice reward online check"
).split()
EMOJIS_ANY = ("🙂", "👍", "✅", "📦", "🎉", "🙏", "⚠️", "🔥", "💰", "😊", "👉", "📅", "🚚", "💳")
EMOJIS_CHAT = ("😂", "❤️", "😅", "🙌", "😴", "🤣", "👀", "🥳", "😘", "🙄", "🤞", "😭", "👌", "🍕")
CHAT_TAILS = ("", "", "", "", " x", " xx", " thanks!", " ty", " pls", " ok?", " 👍", " :)", " lol", " haha")


def pick(*choices: str) -> Slot:
    return lambda rng: rng.choice(choices)


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(count - 1))


def _alnum(rng: random.Random, count: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def money(rng: random.Random, low: float, high: float, currencies: str = "£$€₹R") -> str:
    """An amount in one of many written styles: £12.99, $1,250, €40.00, ₹2,499, Rs.499, INR 1,250.00, Rs 25,000."""
    value = rng.uniform(low, high)
    currency = rng.choice(currencies)
    cents = rng.random() < 0.5 or value < 10
    number = f"{value:,.2f}" if cents else f"{round(value):,}"
    if currency in "£$€":
        return f"{currency}{number}"
    if currency == "₹":
        return f"₹{number}" if rng.random() < 0.5 else f"₹ {number}"
    return rng.choice(("Rs.", "Rs ", "INR ", "INR", "Rs.")) + number


def amount(rng: random.Random) -> str:
    return money(rng, 5, 25000)


def fee(rng: random.Random) -> str:
    return money(rng, 0.5, 4.99, "£$€") if rng.random() < 0.8 else money(rng, 15, 99, "R₹")


def inr(rng: random.Random) -> str:
    return money(rng, 50, 50000, "R₹")


def date(rng: random.Random) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2018, 2025)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    style = rng.randrange(7)
    return [
        f"{day:02d}/{month:02d}",
        f"{day:02d}-{months[month - 1]}-{year % 100:02d}",
        f"{day} {months[month - 1]} {year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{month}/{day}",
        f"{day:02d}.{month:02d}.{year % 100:02d}",
        f"{rng.choice('Mon Tue Wed Thu Fri Sat Sun'.split())} {day} {months[month - 1]}",
    ][style]


def clock(rng: random.Random) -> str:
    hour, minute = rng.randint(0, 23), rng.choice((0, 0, 15, 30, 45, 10, 20, 40, 5, 50))
    style = rng.randrange(4)
    if style == 0:
        return f"{hour:02d}:{minute:02d}"
    suffix = "AM" if hour < 12 else "PM"
    twelve = hour % 12 or 12
    if style == 1:
        return f"{twelve}:{minute:02d} {suffix}"
    if style == 2:
        return f"{twelve}:{minute:02d}{suffix.lower()}"
    return f"{twelve}{suffix.lower()}" if minute == 0 else f"{twelve}.{minute:02d}{suffix.lower()}"


def account(rng: random.Random) -> str:
    last = _digits(rng, 4)
    return rng.choice((f"XX{last}", f"*{last}", f"x{last}", f"XXXXXX{last}", f"ending {last}", f"**{last}"))


def code(rng: random.Random) -> str:
    return _digits(rng, rng.choice((4, 6, 6, 6, 5, 8)))


def dashed_code(rng: random.Random) -> str:
    value = _digits(rng, 6)
    return f"{value[:3]}-{value[3:]}" if rng.random() < 0.6 else f"{value[:3]} {value[3:]}"


def uk_phone(rng: random.Random) -> str:
    return f"07700 900{rng.randint(0, 999):03d}"


def us_phone(rng: random.Random) -> str:
    number = f"555-01{rng.randint(0, 99):02d}"
    return rng.choice((f"1-800-{number}", f"(202) {number}", f"+1 555 01{rng.randint(0, 99):02d}", f"888-{number}"))


def in_phone(rng: random.Random) -> str:
    tail = f"{rng.randint(0, 9999):04d}"
    return rng.choice((f"98765 4{tail}", f"+91 98765 4{tail}", f"987654{tail}"))


def phone(rng: random.Random) -> str:
    return rng.choice((uk_phone, us_phone, in_phone))(rng)


def order_number(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{_digits(rng, 3)}-{_digits(rng, 7)}-{_digits(rng, 7)}"
    if style == 1:
        return f"OD{_digits(rng, 12)}"
    if style == 2:
        return f"#{_digits(rng, 6)}"
    return _alnum(rng, 8, string.ascii_uppercase + string.digits)


def tracking(rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return f"1Z{_alnum(rng, 16, string.ascii_uppercase + string.digits)}"
    if style == 1:
        return f"RM{_digits(rng, 9)}GB"
    if style == 2:
        return _digits(rng, 12)
    if style == 3:
        return f"EE{_digits(rng, 9)}IN"
    return f"{_alnum(rng, 2, string.ascii_uppercase)}-{_digits(rng, 4)}-{_alnum(rng, 4, string.ascii_uppercase)}"


def pnr(rng: random.Random) -> str:
    return _digits(rng, 10) if rng.random() < 0.4 else _alnum(rng, 6, string.ascii_uppercase + string.digits)


def short_link(rng: random.Random) -> str:
    link = f"{rng.choice(SHORTENERS)}/{_alnum(rng, rng.randint(5, 8))}"
    return with_scheme(rng, link)


def with_scheme(rng: random.Random, host_and_path: str) -> str:
    return rng.choice(("", "", "https://", "http://", "https://", "www.")) + host_and_path


def lookalike(rng: random.Random, slug: str) -> str:
    """A made-up domain that borrows a brand: usps-redelivery-help.com, hmrc-refund.uk-claim.net, sbi-kyc-update.in."""
    words = rng.sample(LINK_WORDS, 2)
    tld = rng.choice(TLDS)
    style = rng.randrange(5)
    host = [
        f"{slug}-{words[0]}-{words[1]}.{tld}",
        f"{slug}-{words[0]}.{tld}",
        f"{slug}.{words[0]}-{words[1]}.{tld}",
        f"{words[0]}-{slug}.{tld}",
        f"{slug}{words[0]}.{tld}",
    ][style]
    path = rng.choice(("", "", "/pay", "/verify", f"/{_alnum(rng, 5)}", f"/track?id={_digits(rng, 6)}", "/login"))
    return with_scheme(rng, host + path)


def raw_ip(rng: random.Random) -> str:
    prefix = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return rng.choice(("http://", "")) + f"{prefix}.{rng.randint(2, 250)}/{rng.choice(LINK_WORDS)}"


def scam_link(slug: str) -> Slot:
    """The link of a smishing text: look-alike domain mostly, else a shortener or a raw IP."""

    def slot(rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.6:
            return lookalike(rng, slug)
        return short_link(rng) if roll < 0.88 else raw_ip(rng)

    return slot


def opt_out(rng: random.Random) -> str:
    return rng.choice(
        (
            "Reply STOP to opt out",
            "T&C apply",
            "*T&C apply",
            "Txt STOP to 60060",
            "To unsubscribe reply STOP",
            "Opt out: reply STOP",
            "T&C",
            "Std rates apply",
        )
    )


# ---------------------------------------------------------------------------------------------------------------
# Categories: templates plus the slots particular to them. Placeholders not in a category's slots come from
# COMMON_SLOTS. One placeholder used twice in a template gets one value.
# ---------------------------------------------------------------------------------------------------------------


def legit_short(rng: random.Random) -> str:
    """A harmless link of the kind friends, schools and real services send, shorteners included."""
    return rng.choice(
        (
            short_link(rng),
            short_link(rng),
            f"https://forms.gle/{_alnum(rng, 10)}",
            f"youtu.be/{_alnum(rng, 11)}",
            f"https://maps.app.goo.gl/{_alnum(rng, 9)}",
            f"https://photos.app.goo.gl/{_alnum(rng, 10)}",
            f"g.co/{_alnum(rng, 6)}",
            f"https://docs.google.com/document/d/{_alnum(rng, 12)}",
        )
    )


COMMON_SLOTS: dict[str, Slot] = {
    "name": pick(*FIRST_NAMES),
    "name2": pick(*FIRST_NAMES),
    "city": pick(*CITIES),
    "street": pick(*STREETS),
    "amount": amount,
    "fee": fee,
    "inr": inr,
    "date": date,
    "time": clock,
    "acct": account,
    "code": code,
    "code6": lambda rng: _digits(rng, 6),
    "code4": lambda rng: _digits(rng, 4),
    "dcode": dashed_code,
    "phone": phone,
    "uk_phone": uk_phone,
    "us_phone": us_phone,
    "in_phone": in_phone,
    "order": order_number,
    "track": tracking,
    "pnr": pnr,
    "short": short_link,
    "hours": pick("12", "24", "48", "2", "6"),
    "mins": pick("5", "10", "10", "15", "3", "30"),
    "pct": pick("20", "30", "40", "50", "60", "70", "80"),
    "ref": lambda rng: _digits(rng, 12),
    "emoji": pick(*EMOJIS_ANY),
    "chat_emoji": pick(*EMOJIS_CHAT),
    "hash": lambda rng: _alnum(rng, 11),
    "legit_short": legit_short,
}

CARRIERS = (
    "USPS",
    "Royal Mail",
    "DHL",
    "FedEx",
    "Evri",
    "India Post",
    "Delhivery",
    "UPS",
    "Parcelforce",
    "Canada Post",
)
CARRIER_SLUG = {
    "USPS": "usps",
    "Royal Mail": "royalmail",
    "DHL": "dhl",
    "FedEx": "fedex",
    "Evri": "evri",
    "India Post": "indiapost",
    "Delhivery": "delhivery",
    "UPS": "ups",
    "Parcelforce": "parcelforce",
    "Canada Post": "canadapost",
}
BANKS = (
    "HDFC Bank",
    "SBI",
    "ICICI Bank",
    "Axis Bank",
    "Kotak",
    "Barclays",
    "Lloyds",
    "HSBC",
    "NatWest",
    "Santander",
    "Monzo",
    "Chase",
    "Wells Fargo",
    "Citi",
    "Bank of America",
)
INDIAN_HEADERS = ("AD-HDFCBK", "VM-SBIINB", "AX-ICICIB", "JD-AXISBK", "VK-KOTAKB", "JM-AMAZON", "AD-FLPKRT", "BZ-PAYTM")
MERCHANTS = ("AMAZON", "FLIPKART", "SWIGGY", "ZOMATO", "TESCO", "UBER", "STARBUCKS", "NETFLIX", "IRCTC", "BIGBASKET")
RETAILERS = ("Myntra", "Flipkart", "Ajio", "Nykaa", "Boots", "Argos", "Currys", "Old Navy", "Target", "Decathlon")
SERVICES = ("Netflix", "Amazon Prime", "Disney+", "Spotify", "Norton", "McAfee", "iCloud", "Hotstar", "YouTube Premium")
TWO_FA_SERVICES = (
    "Google",
    "Microsoft",
    "Instagram",
    "Facebook",
    "PayPal",
    "Apple",
    "Amazon",
    "X",
    "LinkedIn",
    "Steam",
)

# Brands a customer signs up to (loyalty app, SMS newsletter): their promotions are spam here, their order,
# points and receipt texts ham. Both kinds draw from this one list, so a brand's name is no cue to the label.
MEMBER_BRANDS = (
    "Boots",
    "Superdrug",
    "Sephora",
    "H&M",
    "Costa",
    "Starbucks",
    "Domino's",
    "Pizza Hut",
    "Nykaa",
    "Myntra",
    "Decathlon",
    "Lidl Plus",
    "Tesco Clubcard",
    "Sainsbury's",
    "Ulta Beauty",
    "Pret",
)
MEMBER_LINKS = (
    "boots.com/offers",
    "superdrug.com/account",
    "sephora.com/app",
    "hm.com/member",
    "costa.co.uk/app",
    "sbux.co/",
    "dominos.co.uk/deals",
    "nykaa.com/s/",
    "myntra.com/s/",
    "decathlon.co.uk/my-account",
    "tesco.com/clubcard",
    "sainsburys.co.uk/nectar",
)
MORE_BANKS = (
    *BANKS,
    "Nationwide",
    "Halifax",
    "Starling",
    "Revolut",
    "Capital One",
    "Amex",
    "PNB",
    "Bank of Baroda",
    "Yes Bank",
    "IDFC FIRST Bank",
    "TSB",
    "First Direct",
)
SUBSCRIPTIONS = (
    *SERVICES,
    "Audible",
    "Xbox Game Pass",
    "Duolingo Super",
    "Google One",
    "Apple Music",
    "Microsoft 365",
    "Canva Pro",
    "Dropbox",
    "JioCinema",
    "Zwift",
)
ACCOUNT_LINKS = (
    "netflix.com/account",
    "spotify.com/account",
    "amazon.co.uk/yourmembership",
    "youtube.com/paid_memberships",
    "apple.com/bill",
    "disneyplus.com/account",
    "play.google.com/store/account/subscriptions",
    "account.microsoft.com/services",
    "one.google.com/storage",
    "audible.co.uk/account",
)
UK_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTVWXY"


def uk_plate(rng: random.Random) -> str:
    return f"{_alnum(rng, 2, UK_PLATE_LETTERS)}{rng.randint(51, 74)} {_alnum(rng, 3, UK_PLATE_LETTERS)}"


def case_number(rng: random.Random) -> str:
    return rng.choice(
        (
            f"CAS-{_digits(rng, 7)}",
            f"#{_digits(rng, 8)}",
            f"SR{_digits(rng, 9)}",
            f"1-{_digits(rng, 10)}",
            f"{_alnum(rng, 3, string.ascii_uppercase)}{_digits(rng, 6)}",
            f"TKT-{_digits(rng, 5)}",
        )
    )


def points(rng: random.Random) -> str:
    return f"{rng.randint(120, 24000):,}"


def slug_of(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


def carrier_link(rng: random.Random) -> str:
    return rng.choice((scam_link("usps"), scam_link("parcel"), scam_link("delivery"), scam_link("redelivery")))(rng)


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    templates: tuple[str, ...]
    slots: dict[str, Slot] = field(default_factory=dict)
    weight: float = 1.0  # share of its label's messages, relative to the label's other categories
    prefixes: tuple[str, ...] = ()  # sender prefixes put before the text sometimes ("DHL:", "[HDFC Bank]")
    prefix_rate: float = 0.0
    opt_out_rate: float = 0.0


def brand_prefixes(brands: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(style.format(b) for b in brands for style in ("{}:", "[{}]", "{} -", "{} Alert:"))


# The carrier for a parcel text is drawn once per message, so `{carrier}` and `{link}` agree.
def parcel_slots() -> dict[str, Slot]:
    def link(rng: random.Random) -> str:
        return scam_link(rng.choice(list(CARRIER_SLUG.values())))(rng)

    return {"carrier": pick(*CARRIERS), "link": link}


SPAM: tuple[Category, ...] = (
    Category(
        "parcel_fee",
        "spam",
        (
            "{carrier}: your parcel {track} could not be delivered, a {fee} redelivery fee is due. Pay here {link}",
            "Your {carrier} package is held at our depot due to unpaid customs of {fee}. Release it: {link}",
            "We missed you today! Your {carrier} parcel will be returned unless you confirm your address at {link}",
            "{carrier} notice: shipment {track} is suspended - incomplete address. Update within {hours}h {link}",
            "Final attempt: parcel awaiting delivery. Small fee of {fee} required {link}",
            "Your package has arrived at the warehouse but cannot be delivered because the house number is "
            "missing. {link}",
            "{carrier}: Dear customer your item is on hold. Please pay {fee} shipping to reschedule: {link}",
            "Hi, {carrier} courier here, i came at {time} but no one was home. pick a new slot {link}",
            "Delivery failed for order {order}. To avoid return to sender pay {fee} at {link}",
            "Your parcel is waiting! Choose a delivery date before {date} or it goes back: {link}",
            "{carrier} - Your shipment is delayed due to an address error. Kindly update: {link} {emoji}",
            "Package {track}: customs duty {fee} outstanding. Settle today to receive it {link}",
            "We'll deliver your parcel once the {fee} fee is paid. See {link}",
            "Your parcel is arriving today, but {fee} postage is unpaid. Pay it so the driver can hand it over {link}",
            "Aapka {carrier} parcel address galat hone ki wajah se ruk gaya hai. Update karein: {link}",
        ),
        parcel_slots(),
        prefixes=("", "[Parcel]", "Notice:"),
        prefix_rate=0.15,
    ),
    Category(
        "toll_fine_tax",
        "spam",
        (
            "{agency}: You have an outstanding toll of {fee}. Avoid a late penalty by paying at {link}",
            "{agency}: you are eligible for a tax refund of {amount}. Claim before {date}: {link}",
            "Final reminder from {agency} - unpaid balance {amount}. Your licence may be suspended. {link}",
            "Your {agency} account shows a pending refund of {amount}. Submit bank details at {link}",
            "Traffic fine {amount} issued for vehicle at {city} on {date}. Pay within {hours} hrs: {link}",
            "{agency} NOTICE: we could not process your refund of {amount}. Verify your details {link}",
            "Your FASTag balance is low and KYC is pending. Your tag will be blacklisted today. Update: {link}",
            "Income Tax Dept: refund of {inr} approved for AY 2023-24. Verify account no. to receive: {link}",
            "Parking penalty notice {ref}: {fee} due. Late fee applies after {date}. {link}",
            "{agency}: A legal case will be filed for unpaid tax. Call {phone} immediately to resolve",
            "We owe you money! {agency} overpayment of {amount} is ready to be returned to you {link}",
            "Dear taxpayer, your return has been flagged for review. Confirm your PAN at {link} to avoid penalty",
        ),
        {
            "agency": pick("HMRC", "IRS", "E-ZPass", "FasTag", "Income Tax Dept", "SunPass", "DVLA", "GOV.UK", "TxTag"),
            "link": lambda rng: scam_link(rng.choice(("hmrc", "irs", "ezpass", "fastag", "tax", "gov", "toll")))(rng),
        },
    ),
    Category(
        "bank_account",
        "spam",
        (
            "{bank}: your account {acct} has been locked due to suspicious activity. Verify now {link}",
            "Dear customer your {bank} KYC has expired. Your account will be blocked today. Update PAN: {link}",
            "{bank} ALERT: New login from {city}. Not you? Secure your account immediately: {link}",
            "Your debit card {acct} is blocked. To reactivate click {link} or call {phone}",
            "Dear {bank} user, your netbanking will be suspended in {hours} hours. Complete KYC at {link}",
            "A payment of {amount} to {merchant} is pending on card {acct}. If this was not you, cancel: {link}",
            "{bank}: We detected unusual activity. Please confirm your details to avoid restriction {link}",
            "Your {bank} reward points worth {inr} expire today. Redeem now: {link}",
            "Security notice: a new payee was added to your {bank} account. If you did not do this call {phone}",
            "Aapka {bank} account band ho jayega. PAN card update karein turant: {link}",
            "{bank} - Your YONO account has been deactivated. Kindly update your KYC {link}",
            "Was this you? {amount} spent on card {acct} in {city}. Reply NO or visit {link}",
        ),
        {
            "bank": pick(*BANKS),
            "merchant": pick(*MERCHANTS),
            "link": lambda rng: scam_link(
                rng.choice(("sbi-kyc", "hdfc", "icici", "barclays", "chase", "bank", "hsbc"))
            )(rng),
        },
        prefixes=INDIAN_HEADERS[:5],
        prefix_rate=0.12,
    ),
    Category(
        "otp_phishing",
        "spam",
        (
            "Hi, I sent a code to your number by mistake. Please forward the 6 digit code to me, it's urgent",
            "Congratulations you are selected for {amount} cashback. Share the OTP you just received to claim",
            "{bank} here: to stop a fraudulent transaction, reply with the verification code we sent you now",
            "Your reward is ready! Tell our agent the code sent to your phone to credit {inr} to your account",
            "Hey is this {name}? I accidentally put your number for my WhatsApp, can u send me the code pls",
            "To complete your KYC please share the OTP received on this number with our executive at {phone}",
            "Refund of {amount} initiated. Confirm by replying with the one-time PIN you receive in the next "
            "{mins} minutes",
            "Amazon Support: we will verify your identity. Read out the code you receive to our agent when he calls",
            "Your electricity subsidy of {inr} is approved. Share OTP with field officer to receive it",
            "Aapke number pe ek OTP aaya hai, galti se. Please woh code mujhe bhej do, bahut zaroori hai",
            "Your SIM will be deactivated in {hours} hrs. Forward the code you just received to {phone} to keep it",
            "Your UPI refund of {inr} is on hold. Enter the code you receive in our app to get it credited {short}",
        ),
        {"bank": pick(*BANKS)},
    ),
    Category(
        "utility_disconnect",
        "spam",
        (
            "Dear consumer your electricity power will be disconnected tonight at {time} because your previous "
            "month bill was not updated. Contact {phone}",
            "{utility}: your account is overdue by {amount}. Service will be cut off today. Pay now {link}",
            "Aapka bijli connection aaj raat {time} baje kaat diya jayega. Turant contact karein {phone}",
            "URGENT: your gas supply will be stopped due to non payment. Call our officer on {phone}",
            "Final notice - {utility}: unpaid balance {amount}. Avoid disconnection by paying at {link}",
            "Your water connection is scheduled for disconnection on {date}. Settle dues: {link}",
            "Dear customer, your electricity bill is not updated. Please download the app from {link} to avoid "
            "disconnection",
            "{utility} energy rebate of {amount} available for your household. Apply before {date} {link}",
            "Your broadband will be suspended in {hours} hours for an unpaid invoice of {amount}. Pay: {link}",
            "Dear sir/madam, electricity office: connection will cut at {time}. Call {phone} immediately",
        ),
        {
            "utility": pick("British Gas", "Octopus Energy", "EDF", "BSES", "Tata Power", "PG&E", "Con Edison", "MSEB"),
            "link": lambda rng: scam_link(rng.choice(("bses", "energy", "power", "bill", "tatapower", "gas")))(rng),
        },
    ),
    Category(
        "hi_mum",
        "spam",
        (
            "Hi {parent} it's me, this is my new number. Old phone broke. Can you text me on WhatsApp?",
            "Hey {parent}, lost my phone so using this number for now. Can u do me a quick favour?",
            "{parent}? its me, phone smashed. Need to pay a bill today and my banking app is locked 😩 can you help",
            "Hello {parent} this is my new number, save it. I need to ask you something urgent",
            "hi {parent} my phone fell in water, new number. can you send {amount} to my friend's account, will "
            "pay back tmrw",
            "{parent} it's {name}, new phone! Please delete the old number. Are you free to chat?",
            "Hi {parent}, got a new sim. Bit embarrassing but I need help with rent, can you transfer today?",
            "Hey it's me, using a friend's phone. Don't call, just message here. Need {amount} urgently x",
            "Papa ye mera naya number hai, purana phone kharab ho gaya. Thoda urgent kaam hai, msg karo",
        ),
        {"parent": pick("Mum", "Mom", "Dad", "mum", "mam", "Mummy", "Papa", "dad")},
    ),
    Category(
        "job_scam",
        "spam",
        (
            "Part time job available! Earn {inr} daily from home. Only 30 mins a day. WhatsApp {in_phone}",
            "Hello, I am {name} from {company} HR. We offer remote work, {usd}/day. Interested? Reply YES",
            "Work from home opportunity: like YouTube videos and earn {inr} per task. Join {short}",
            "Hiring now: online data entry, {usd} per week, no experience. Contact {name} on Telegram",
            "Your profile was shortlisted for a part-time role, salary {usd}/day. Add our HR on WhatsApp {phone}",
            "Ghar baithe kamaye {inr} roz! Sirf mobile chahiye. Abhi join karein: {short}",
            "Earn 5000 daily with simple review tasks. Limited seats. Message {in_phone}",
            "Hi, we saw your CV on a job site. Flexible hours, daily payout {usd}. Reply 1 for details",
            "{company} is recruiting app testers. Paid every day. Register: {link}",
            "Good news! You qualify for a remote assistant job, {usd} weekly. Training is free. {short}",
        ),
        {
            "company": pick("Amazon", "Infosys", "Flipkart", "TalentHub", "Indeed Partners", "Randstad", "Meta"),
            "usd": lambda rng: money(rng, 150, 900, "$£€"),
            "link": scam_link("jobs"),
        },
    ),
    Category(
        "crypto_invest",
        "spam",
        (
            "Our AI trading signals made members {pct}% profit this week. Join the free VIP group: {link}",
            "Invest {usd} and get {usd2} back in 7 days, guaranteed returns. WhatsApp {phone}",
            "Your {exchange} wallet has unclaimed {coin}. Withdraw before {date}: {link}",
            "Stock tips with 90% accuracy! Join our Telegram for daily intraday calls {short}",
            "{name} here from the investment club. Mentor shared a new coin listing today, want in?",
            "Double your {coin} in 24 hrs with our mining pool. Limited slots: {link}",
            "IPO allotment alert: guaranteed shares through our premium desk. Register {short}",
            "Exclusive: pre-sale token going 100x. Min deposit {usd}. DM now",
            "You have been added to the {exchange} Profit Group. Claim your {usd} bonus: {link}",
            "Share market mein roz {pct}% profit! Hamare group se judiye: {short}",
        ),
        {
            "exchange": pick("Binance", "Coinbase", "WazirX", "Kraken", "CoinDCX", "Bybit"),
            "coin": pick("BTC", "USDT", "ETH", "Bitcoin", "crypto"),
            "usd": lambda rng: money(rng, 100, 1000, "$£€R"),
            "usd2": lambda rng: money(rng, 2000, 20000, "$£€R"),
            "link": scam_link("crypto"),
        },
    ),
    Category(
        "loan_offer",
        "spam",
        (
            "Congrats! You are pre-approved for an instant loan of {inr}. Get money in 5 mins: {link}",
            "Need cash? Personal loan up to {amount} with no credit check. Apply now {short}",
            "{lender}: your loan limit of {inr} is ready. Disbursal in 10 mins, no documents. {link}",
            "Dear customer, a pre-approved credit line of {amount} is waiting for you. Activate: {short}",
            "Bad credit? No problem. Get {amount} today. Reply YES for a call back",
            "Instant loan approved! Rs 50,000 at 0% interest for 3 months. Claim today {link}",
            "Aapka {inr} ka loan approve ho gaya hai. Abhi apply karein: {short}",
            "Your credit card limit has been increased to {amount}. Confirm acceptance within {hours}h {link}",
            "Debt relief program: cut your bills by 50%. Call {us_phone}",
            "Low interest home loan offer at 6.5%, limited period. Check eligibility {link}",
        ),
        {"lender": pick("KreditBee", "MoneyView", "CashNow", "QuickLend", "LoanTap"), "link": scam_link("loan")},
    ),
    Category(
        "prize",
        "spam",
        (
            "Congratulations! You have won a {prize}. Claim before midnight: {link}",
            "Your number was selected in our lucky draw. Prize: {amount}. Reply with your name and address",
            "You've been chosen for a {brand} gift card worth {amount}! Collect it here {short}",
            "Congratulations! Aapne {inr} jeete hain. Claim karein: {short}",
            "WINNER! Your mobile number won {amount} in the {brand} anniversary promo. Call {phone}",
            "Survey complete? Your {brand} reward of {amount} is waiting. Claim now {link}",
            "Dear customer you are the lucky winner of a {prize} from {brand}. Pay {fee} delivery to claim",
            "You have (1) unclaimed prize. Last day to collect: {short}",
            "{brand} loyalty: you earned a free {prize}. Confirm shipping address {link}",
            "KBC lottery: your number won {inr}. Contact manager on WhatsApp {in_phone}",
            "🎁 Spin the wheel and win {amount} instantly! You've got 3 free spins {short}",
            "Rs.{small} credited to your reward wallet! Withdraw to your bank via UPI: {short}",
            "You'll see {amount} credited once you confirm your details at {link}",
        ),
        {
            "prize": pick("iPhone 15", "Samsung Galaxy", "PS5", "gift hamper", "£500 voucher", "Dyson hair dryer"),
            "brand": pick("Amazon", "Walmart", "Tesco", "Costco", "Flipkart", "Jio", "Airtel", "Apple"),
            "link": scam_link("reward"),
            "small": lambda rng: f"{rng.randint(500, 9999):,}",
        },
    ),
    Category(
        "promo_offer",
        "spam",
        (
            "{retailer} END OF SEASON SALE: flat {pct}% off on top brands. Shop now {short}",
            "Get {pct}% cashback on your next order with code SAVE{code4}. Valid till {date}",
            "Limited period offer! Buy 1 get 1 free on all pizzas this weekend. Order at {short}",
            "Welcome bonus: 100% up to {amount} on your first deposit + 50 free spins. 18+ only {short}",
            "{builder} launches luxury 2 & 3 BHK apartments in {city} from {inr}. Book a site visit {phone}",
            "Your car insurance renewal: save up to {pct}% today. Get a quote in 2 mins {short}",
            "Hurry! {retailer} Big Sale is LIVE. Extra {pct}% off with bank cards. {short}",
            "Dear customer, enjoy flat {amount} off on orders above {inr}. Use code {promo}",
            "Bet on tonight's match and get a {amount} free bet. New customers only {short}",
            "New arrivals are here! {pct}% off sitewide for 48 hours only at {retailer}",
            "Term life cover of 1 Crore at just Rs.490/month. Call {in_phone} for a free consultation",
            "Last chance: your exclusive {pct}% discount ends tonight. Shop {retailer} {short}",
            "Happy weekend! Enjoy a free dessert with every main at {restaurant}. Show this SMS",
            "Gym membership sale! Join this month and get 3 months free. Visit us on {street}",
        ),
        {
            "retailer": pick(*RETAILERS),
            "builder": pick("Lodha", "Prestige", "Godrej Properties", "Sobha", "DLF"),
            "restaurant": pick("Pizza Express", "Barbeque Nation", "Nando's", "Wagamama", "Chili's"),
            "promo": lambda rng: rng.choice(("NEW", "SAVE", "FEST", "DEAL", "EXTRA")) + _digits(rng, 2),
        },
        prefixes=("AD-MYNTRA", "VM-FLPKRT", "JM-NYKAA", "BZ-OFFERS", "AX-DOMINO", "[Promo]", "SALE:"),
        prefix_rate=0.25,
        opt_out_rate=0.5,
    ),
    Category(
        "subscription_renewal",
        "spam",
        (
            "{service}: your payment was declined. Update billing within {hours}h to keep your plan {link}",
            "Your {service} subscription has expired. Renew now to avoid losing your data: {link}",
            "{service} auto-renewal of {amount} processed. Not you? Call {us_phone} for a refund",
            "We couldn't charge your card for {service}. Your account will be suspended today {link}",
            "Your {service} membership is on hold. Verify payment details: {short}",
            "{service} invoice {ref}: {amount} charged for 3 years protection. To cancel call {phone}",
            "Reminder: {service} account will be closed on {date}. Reactivate for free at {link}",
            "Your iCloud storage is full and photos will be deleted. Upgrade for {fee} here {link}",
        ),
        {
            "service": pick(*SERVICES),
            "link": lambda rng: scam_link(rng.choice(("netflix", "prime", "norton", "acct")))(rng),
        },
    ),
    Category(
        "wrong_number_romance",
        "spam",
        (
            "Hi, is this {name}? We met at the conference in {city} last month",
            "Hello, are you free this weekend for golf? - {name}",
            "Sorry, I think I saved the wrong number. I'm {name}, nice to meet you anyway 😊",
            "Hey dear, I'm new in {city} and lonely. Want to chat? My pics here {short}",
            "I'm arriving in {city} next week for work, do you have time for a coffee? I'm {name} 😊",
            "Hi, this is {name}, my dog groomer gave me this number. Is this Dr. {name2}?",
            "Hey, how have you been? It's been so long! Are you still in {city}?",
            "hi handsome, saw your profile, I'd love to get to know you. text me on whatsapp {us_phone}",
            "Hello, I'm {name}'s assistant. Is the dinner still on for tonight at 7?",
            "Did you get my last message? I'm the one you met at the wine bar",
            "Local singles are waiting to meet you tonight. Free sign-up {short}",
        ),
    ),
    Category(
        "hinglish_misc",
        "spam",
        (
            "Aapka SIM card {hours} ghante mein band ho jayega. KYC update ke liye call karein {in_phone}",
            "Badhai ho! Aapka mobile number {inr} ke inaam ke liye chuna gaya hai. Abhi claim karein {short}",
            "Aapka PAN card block ho gaya hai. Turant update karein: {link}",
            "Sirf aaj! {pct}% tak ki chhoot, jaldi karein. Order karein {short}",
            "Pyare grahak, aapka bijli bill bakaya hai. Aaj raat connection kaat diya jayega. Call {in_phone}",
            "Aapko {inr} ka cashback mila hai. Paytm mein receive karne ke liye link kholein {short}",
            "Aapka loan {inr} turant approve. Koi document nahi. Apply: {link}",
            "Naukri ka mauka! Ghar se kaam karke {inr} mahina kamaye. WhatsApp karein {in_phone}",
        ),
        {"link": lambda rng: scam_link(rng.choice(("pan", "sbi-kyc", "loan", "paytm")))(rng)},
        prefixes=("VK-ALERTS", "AD-INFO", "JX-BIJLI"),
        prefix_rate=0.15,
    ),
    Category(
        "account_phishing",
        "spam",  # sign-in phishing for big accounts: the mirror of two_fa_alert, with a look-alike link
        (
            "{service}: a sign-in from {device} in {city} was blocked. Confirm it was you at {link} or access "
            "will be restricted.",
            "Unusual sign-in activity on your {service} account. Review and secure it within {hours} hours: {link}",
            "Your {service} password expires today. Keep your current password here: {link}",
            "{service} Security: we've temporarily limited your account. Restore access: {link}",
            "Someone signed in to your {service} from {city} ({device}). Not you? Lock your account now {link}",
            "{service}: a purchase of {amount} was made with your account on {device}. If you didn't authorise "
            "it, dispute at {link}",
            "Your {service} account has been disabled for violating our terms. Appeal within 24h: {link}",
            "{service} notice: your account details are incomplete and sign-in will be blocked on {date}. "
            "Update: {link}",
            "We could not verify your recent login to {service}. Re-enter your details to avoid suspension {link}",
            "Your {service} verification code is {code6}. If you did not request it, cancel the request at {link}",
            "{service} Support: your mailbox storage is full and new mail is being rejected. Upgrade free: {link}",
            "Dear user, your {service} ID was accessed on a new {device}. If this wasn't you tap {link} to secure it",
        ),
        {
            "service": pick("Apple ID", "Apple", "iCloud", "Google", "Gmail", "Microsoft", "Outlook", "PayPal"),
            "device": pick("iPhone 15", "Windows PC", "Mac", "Android device", "iPad", "Chrome on Windows"),
            "link": lambda rng: scam_link(
                rng.choice(("apple", "icloud", "appleid", "google", "microsoft", "outlook", "paypal", "account"))
            )(rng),
        },
        weight=1.2,
    ),
    Category(
        "polite_opener",
        "spam",  # no link, no money: the first message of a wrong-number, romance or pig-butchering scam
        (
            "Hi, is this {name}'s number? {name2} gave it to me",
            "Hello, sorry to bother you. Is this {name}? I found your number in my contacts",
            "Do you remember me? We met at {place} in {city} {when}",
            "Hi there, are you still selling the {item}?",
            "Hey, long time no see! It's {name} from {city}, how have you been?",
            "Hi, I'm {name}. My friend said you could help me with {topic}, is now a good time?",
            "Hello, did we have a meeting today at {time}? I'm waiting in the lobby",
            "Sorry, who is this? Your number came up in my WhatsApp",
            "Excuse me, is this {name}? I think we were in the same {club} class",
            "Hi {name}, it's been ages. Are you still living in {city}?",
            "Hello dear, I got your number from a friend. I'm {name}, a nurse in {city}. Can we be friends?",
            "Good evening, is this Mr {name}? My aunt asked me to contact you about {topic}",
            "Hey! Sorry, I think my assistant gave me the wrong number. Anyway nice to meet you, where are you based?",
        ),
        {
            "place": pick("the airport", "a wedding", "the gym", "a conference", "the hotel bar", "a friend's party"),
            "when": pick("last year", "in March", "a few months ago", "last summer", "at Christmas"),
            "item": pick("sofa", "bike", "iPhone", "car", "piano", "camera", "cot"),
            "topic": pick("the apartment", "a business idea", "the visa forms", "my cat", "the wine order"),
            "club": pick("yoga", "cooking", "salsa", "pottery", "spin"),
        },
        weight=1.2,
    ),
    Category(
        "code_forwarding",
        "spam",  # asks for a login code that arrived: WhatsApp takeover, marketplace and bank-impersonation scams
        (
            "Sorry! I typed the wrong number when logging in and a {digits}-digit code just went to you. Can you "
            "text it to me?",
            "{name} here, my new phone keeps sending my codes to your number. What number did you just get?",
            "Hey it's {name} from the group, WhatsApp sent my login code to you by accident. Please send me the "
            "6 digits",
            "Hi, I'm interested in your listing on {site}. To check you're not a bot, tell me the code Google "
            "sends you",
            "Urgent pls: I got locked out and used your number for the backup code. What did it say?",
            "{bank} fraud team: a code has been sent to confirm you are the account holder. Reply with it now to "
            "block the payment",
            "This is {service} support. To stop the unauthorised transfer, read back the {digits}-digit code you "
            "just got",
            "Hi, courier here. I need the code sent to your phone to confirm your delivery address, please reply "
            "with it",
            "Mum I need your help, send me the code that comes to your phone in a minute, it's for my new bank",
            "Congratulations on your {site} sale! Send the verification code to receive {amount} into your account",
            "oops, my {service} code went to your phone instead of mine. could you forward it? thx {chat_emoji}",
            "Hi, I'm buying your {item} on {site}. Please confirm with the SMS code you get so I can pay",
        ),
        {
            "digits": pick("6", "6", "4", "8"),
            "site": pick("Facebook Marketplace", "Gumtree", "OLX", "Craigslist", "Vinted", "Depop", "eBay"),
            "bank": pick(*BANKS),
            "service": pick("WhatsApp", "Telegram", "Instagram", "PayPal", "Amazon", "Google"),
            "item": pick("sofa", "bike", "pram", "PS5", "table", "jacket"),
        },
        weight=1.1,
    ),
    Category(
        "fake_support_refund",
        "spam",
        (
            "{company} Refunds: you were overcharged {amount} on your last bill. Call {phone} to receive your refund",
            "Your {company} order of {amount} has been placed. If you didn't order this, call our support desk on "
            "{us_phone}",
            "Microsoft Support: your PC licence has expired and your computer is at risk. Call {us_phone} now",
            "{company}: refund of {amount} could not be sent. Install AnyDesk and call {phone} so an agent can "
            "process it",
            "Dear customer, your complaint {ref} is resolved. Collect your compensation of {amount} at {link}",
            "Geek Squad renewal of {amount} deducted today. To cancel and get a refund, call {us_phone}",
            "We made an error on your account and owe you {amount}. Our refund team is waiting: {phone}",
            "Customer care: your {company} refund of {inr} is pending. Download the QuickSupport app and share the "
            "ID with us",
            "Thank you for contacting {company}. To finish your refund, enter your card details at {link}",
            "Your case {case} has been escalated. A refund of {amount} is ready, verify your card: {link}",
            "{company} Helpdesk: suspicious order on your account. Press 1 on our call or ring {phone} to cancel",
        ),
        {
            "company": pick("Amazon", "Apple", "Microsoft", "BT", "Sky", "Virgin Media", "PayPal", "Flipkart"),
            "case": case_number,
            "link": lambda rng: scam_link(rng.choice(("refund", "support", "helpdesk", "amazon", "care")))(rng),
        },
    ),
    Category(
        "sextortion",
        "spam",
        (
            "I recorded you through your webcam. Pay {btc} BTC to {wallet} within 48 hours or the video goes to "
            "all your contacts.",
            "We have your private photos. Send {amount} in Bitcoin to {wallet} or they will be posted online.",
            "I know your password is {password}. I have videos from your device. Pay {btc} BTC and I delete "
            "everything.",
            "Your phone was hacked {days} days ago and I have seen everything. Pay {amount} or your family sees it.",
            "Last warning: transfer {amount} by {date} or your video call recording is shared with your friends list",
            "The girl you chatted with last night is under 18. A police case is filed. Call {phone} to settle it",
            "Cyber Crime Cell: your number is linked to obscene content. Pay a fine of {inr} to avoid arrest. Call "
            "{in_phone}",
            "Is this you in this video?? everyone is sharing it {short}",
        ),
        {
            "btc": lambda rng: f"0.0{rng.randint(1, 9)}{rng.randint(0, 9)}",
            "wallet": lambda rng: "bc1q" + _alnum(rng, 24, string.ascii_lowercase + string.digits),
            "password": lambda rng: (
                rng.choice(("summer", "qwerty", "sunshine", "football", "monkey")) + _digits(rng, 2)
            ),
            "days": pick("3", "5", "14", "30", "60"),
        },
        weight=0.8,
    ),
    Category(
        "fake_charity",
        "spam",
        (
            "Flood relief appeal: families in {region} need help tonight. Donate {donation} now: {link}",
            "Please help little {name} get heart surgery. Every {donation} counts. Donate: {link}",
            "{charity} emergency appeal: your {donation} can feed a family this week. Give now {link}",
            "Earthquake victims need you. 100% of donations reach them. UPI to {upi}",
            "Sponsor an orphan for just {donation} a month. Reply YES and our volunteer will call you",
            "Help war-affected children this winter. Donate securely: {short}",
            "Temple construction seva: donate {inr} and receive prasad at home. UPI {upi}",
            "Last chance to double your gift! Donations matched until midnight: {short}",
            "Animal shelter closing due to debts, 40 dogs need homes. Please donate {donation} via {link}",
            "Dear donor, your monthly gift to {charity} failed. Re-enter card details to keep supporting us: {link}",
        ),
        {
            "region": pick("Assam", "Pakistan", "Bangladesh", "Kerala", "Libya", "Morocco", "Turkey"),
            "charity": pick("Hope Relief Trust", "Children First Aid", "Global Care Fund", "Seva Help Foundation"),
            "donation": lambda rng: money(rng, 3, 50, "£$€₹"),
            "upi": lambda rng: rng.choice(("relief", "seva", "donate", "help")) + _digits(rng, 4) + "@ybl",
            "link": lambda rng: scam_link(rng.choice(("donate", "relief", "charity", "appeal")))(rng),
        },
        weight=0.8,
    ),
    Category(
        "task_scam",
        "spam",  # "optimise" hotels/products for commission, then pay to unlock it
        (
            "Hi, I'm {name} from {agency}. Rate hotels online and earn {usd} a day. Reply to learn more",
            "Your task account has {usd} commission. Top up {usd2} to unlock withdrawal: {link}",
            "Complete 30 simple app-review tasks and earn up to {usd} daily. Paid same day. WhatsApp {phone}",
            "Congrats on finishing level 2! Recharge {inr} to start the VIP task set and triple your earnings",
            "Like and follow 3 Instagram pages, send screenshots, get {inr} per task. Join Telegram {short}",
            "Boost product ratings for {platform} merchants from your phone. {usd} per set. Interested?",
            "Your combined order task is negative {usd2}. Deposit to clear it and withdraw your {usd}",
            "Prepaid task: pay {inr}, receive double back within 10 minutes. Limited slots {short}",
            "Good afternoon! We're hiring online optimisers for {platform}. Flexible hours, daily pay. Reply 1",
            "Movie rating job: rate trailers, earn {usd} per day. Our mentor will guide you {link}",
        ),
        {
            "agency": pick("Adecco", "Hays", "Reed", "Indeed Talent", "Michael Page", "Monster"),
            "platform": pick("Amazon", "TripAdvisor", "Google Maps", "Shopify", "Booking.com", "Etsy"),
            "usd": lambda rng: money(rng, 80, 800, "$£€"),
            "usd2": lambda rng: money(rng, 50, 3000, "$£€"),
            "link": scam_link("tasks"),
        },
    ),
    Category(
        "promo_optin",
        "spam",  # marketing from a brand the user joined: spam here, as in the evaluation set (see the data card)
        (
            "{brand}: as a member you get {pct}% off everything this weekend. Show your app at the till.",
            "Hi {name}, it's your birthday month! Enjoy a free {treat} on us at {brand}, valid until {date}.",
            "{brand} Rewards: double points on all purchases {day} only. See you in store!",
            "Members' early access: the {brand} sale starts tomorrow at 8am, a day before everyone else. {brand_link}",
            "Thanks for signing up to {brand} texts! Here's {pct}% off your next order: code {promo}",
            "{brand}: new season just landed. As a valued member, use {promo} for free delivery until {date}.",
            "We miss you at {brand}! Come back this week and get {money_off} off when you spend {spend}.",
            "{brand}: your member price on {product} ends Sunday. Shop: {brand_link}",
            "{brand} SMS club: {pct}% off {product} this week only for our text subscribers.",
            "{name}, you've unlocked {brand} Gold perks: free delivery and an extra {pct}% off this month.",
            "Flash sale for {brand} members! {pct}% off for the next {hours} hours in the app.",
            "Weekend treat from {brand}: buy one {treat}, get one free with your loyalty card.",
            "{brand}: {points} bonus points when you spend {spend} by {date}. Already loaded to your card.",
        ),
        {
            "brand": pick(*MEMBER_BRANDS),
            "brand_link": lambda rng: rng.choice(MEMBER_LINKS) + _alnum(rng, 5),
            "treat": pick("coffee", "pizza", "lipstick", "pastry", "cookie", "smoothie", "sample set"),
            "day": pick("today", "this Friday", "this weekend", "Saturday", "tomorrow"),
            "product": pick("skincare", "trainers", "fragrance", "jackets", "large pizzas", "kids' clothing"),
            "promo": lambda rng: rng.choice(("MEMBER", "VIP", "CLUB", "TEXT", "HELLO")) + _digits(rng, 2),
            "money_off": lambda rng: money(rng, 3, 20, "£$€₹"),
            "spend": lambda rng: money(rng, 20, 80, "£$€₹"),
            "points": points,
        },
        weight=1.3,
        prefixes=brand_prefixes(MEMBER_BRANDS),
        prefix_rate=0.3,
        opt_out_rate=0.6,
    ),
)

HAM: tuple[Category, ...] = (
    Category(
        "otp",
        "ham",
        (
            "{code6} is your verification code.",
            "Your OTP for txn of {inr} at {merchant} is {code6}. Valid {mins} mins. Do not share it with anyone",
            "G-{code6} is your Google verification code.",
            "<#> Your WhatsApp code: {dcode}. You can also tap on this link to verify your phone: "
            "v.whatsapp.com/{code6} Don't share this code with others {hash}",
            "{code} is your {service} login code. Don't share it.",
            "Use {code6} as your one-time password for {bank} NetBanking. Never share OTP with anyone incl. bank staff",
            "Your {service} security code is {code}. It expires in {mins} minutes.",
            "Aapka OTP {code} hai. Kisi ke saath share na karein.",
            "{code6} is the OTP to log in to your {merchant} account. It is valid for {mins} minutes. Do not share.",
            "Dear customer, OTP for your {bank} card ending {code4} is {code6}. If not requested, call {phone}",
            "Your {service} verification code is: {dcode}",
            "Enter {code4} to confirm your phone number. - {service}",
            "{code6} - use this code to reset your password. If you didn't ask for it, ignore this message.",
            "OTP {code6} for delivery of your order {order}. Share with the delivery agent only on receipt.",
            "[#] {code6} is your Instagram code. Don't share it. {hash}",
            "Your Uber code: {code4}. Never share this code. Reply STOP ALL to unsubscribe.",
            "<#> {code6} is your {service} code. Don't share it with anyone. {hash}",
            "{code6} is your {service} code. Valid for {mins} min. Do not share it with anyone, including {service} "
            "staff.",
            "Dear Customer, {code6} is the OTP for txn of {inr} at {merchant} on your {bank} card ending {code4}. "
            "Valid till {time}. Do not share OTP for security reasons.",
            "Use verification code {dcode} for {service} authentication.",
            "Telegram code: {code5}. Do not give this code to anyone, even if they say they are from Telegram!",
            "Your Apple Account code is: {code6}. Don't share it with anyone. @apple.com #{code6}",
            "Your login code for {service} is {code6}. If you didn't try to sign in, change your password in the app.",
            "Verification code: {code6}. This code expires in {mins} minutes. If you did not request it, ignore "
            "this message. -{service}",
            "Your Revolut verification code is {dcode}. Never share it, Revolut will never ask for it.",
            "{dcode} is your {bank} mobile banking activation code. We will never call you to ask for it.",
            "OTP is {code6} to add a new payee to your {bank} account. If this was not you, call {phone} now.",
        ),
        {
            "merchant": pick(*MERCHANTS),
            "service": pick(*TWO_FA_SERVICES, "Uber", "Swiggy", "Paytm", "PhonePe", "Zepto", "Revolut", "TikTok"),
            "bank": pick(*MORE_BANKS),
            "code5": lambda rng: _digits(rng, 5),
        },
        weight=1.6,
        prefixes=INDIAN_HEADERS,
        prefix_rate=0.1,
    ),
    Category(
        "bank_alert",
        "ham",
        (
            "{bank}: {amount} debited from A/c {acct} on {date} to {merchant}. Avl bal {amount2}. Not you? Call "
            "{phone}",
            "Rs.{small} credited to your A/c {acct} on {date} by UPI ref {ref}. -{bank}",
            "Your card {acct} was used for {amount} at {merchant} on {date} {time}. If this wasn't you, call {phone}",
            "INR {small} sent to {name} via UPI from {bank} A/c {acct}. UPI Ref {ref}. Not you? SMS BLOCK to "
            "{in_phone}",
            "Salary credited: {amount2} to your account {acct}. Available balance {amount2}.",
            "{bank}: payment of {amount} to your credit card {acct} received. Thank you.",
            "You have received {amount} from {name}. It'll be in your account within 2 hours.",
            "Direct debit of {amount} to {utility} will be taken on {date}. Make sure you have enough in your account.",
            "Your {bank} balance is {amount2} as of {date}. Low balance alert set at {amount}.",
            "Dear customer, your EMI of {inr} for loan {ref} is due on {date}. Please keep sufficient balance.",
            "Transaction declined: {amount} at {merchant}, insufficient funds. Card {acct}.",
            "{bank}: your new debit card has been dispatched and will arrive within 5 working days.",
            "Refund of {amount} from {merchant} has been credited to your card {acct}.",
            "Cheque no. {code6} for {amount} has been cleared in A/c {acct}.",
            "Online banking on your account {acct} is suspended after 3 wrong PIN attempts. Reset it in the app "
            "or at your branch.",
            "UPI AutoPay: {amount} will be debited on {date} for {merchant}. To stop it, open your UPI app.",
            "There's a new message for you in the {bank} app. For your security we don't send details by text.",
            "{bank}: your balance has dropped below {threshold}. Current balance {amount_low}.",
            "Your {bank} credit card statement is ready. Minimum due {amount} by {date}. View it in the app.",
            "{bank} alert: a transaction of {amount} on card {acct} is over the alert limit you set. Don't "
            "recognise it? Call the number on the back of your card.",
            "{bank}: did you make a purchase of {amount} at {merchant} on {date}? Reply YES or NO. We will never "
            "ask for your PIN or passcode.",
            "You're {amount_low} over your arranged overdraft. Pay in by midnight to avoid a fee. - {bank}",
            "Your {bank} statement for account {acct} is now available in online banking.",
            "{bank}: you froze card {acct} in the app. Unfreeze it anytime in Settings.",
            "Standing order of {amount} to {name} will be paid tomorrow from account {acct}.",
            "Reward points: {points} points earned this month on card {acct}. Redeem them in the {bank} app.",
            "Your new PIN is on its way by post and should arrive in 3-5 working days. - {bank}",
            "{bank}: your KYC details were updated on {date}. No further action is needed from you.",
            "{bank}: we've declined a payment of {amount} to {merchant} as it looked unusual. Check the app to "
            "approve or report it.",
        ),
        {
            "bank": pick(*MORE_BANKS),
            "merchant": pick(*MERCHANTS, "Tesco Express", "Shell", "Costa", "Apple.com/bill"),
            "threshold": lambda rng: money(rng, 50, 500, "£$€₹"),
            "amount_low": lambda rng: money(rng, 1, 90, "£$€₹"),
            "points": points,
            "amount2": lambda rng: money(rng, 1000, 90000),
            "small": lambda rng: f"{rng.randint(10, 9999):,}.00",
            "utility": pick("British Gas", "Thames Water", "EE", "Vodafone", "Council Tax"),
        },
        weight=1.5,
        prefixes=(*INDIAN_HEADERS[:5], "[HDFC Bank]", "Barclays:", "Monzo:", "Nationwide:", "Halifax:"),
        prefix_rate=0.2,
    ),
    Category(
        "delivery_update",
        "ham",
        (
            "{carrier}: your parcel {track} will be delivered today between {time} and {time2}.",
            "Your order {order} has been shipped and will arrive by {date}. Track: {track_link}",
            "Delivered: your {shop} package was left at the front door. {track_link}",
            "{carrier}: we tried to deliver your parcel today. It's at your local depot, collect from {date} with ID.",
            "Your {shop} order is out for delivery. Your driver {name} will arrive between {time} and {time2}.",
            "Your Swiggy order is on the way! {name} is {mins} mins away.",
            "Good news, your {shop} return was received and your refund of {amount} has been issued.",
            "Track your {carrier} parcel at {track_link}. Reply STOP to opt out of delivery texts",
            "Your food order from {restaurant} has been picked up. Arriving in {mins} mins.",
            "Parcel {track} was delivered to your neighbour at No. {num}. See the photo in your app.",
            "Your order {order} is ready for collection at {shop} {city}. Bring this code: {code6}",
            "Your Flipkart order has been delivered. Rate your experience: {track_link}",
            "{carrier} has your parcel and will deliver it on {date}. Want to change the day? {track_link}",
            "{name} is delivering your {carrier} parcel today, {time}-{time2}. Live map: {track_link}",
            "Your parcel needs a signature. If you're out, {carrier} will leave a card and try again tomorrow.",
            "We've left your parcel in your safe place ({safe_place}) as you asked. - {carrier}",
            "{carrier}: you're stop {num} of {stops} today. Your driver {name} is on the way.",
            "Your {shop} delivery is booked for a 1-hour slot, {time} to {time2}. Change it in the app if needed.",
            "Your {shop} parcel is waiting in {locker}. Collection code {code6}, available until {date}.",
            "Age-checked delivery today: please have photo ID ready for the {carrier} driver.",
            "{carrier} couldn't deliver today as nobody was in. We'll try again tomorrow, nothing for you to do.",
            "Your {grocer} delivery is on {date}, {time}-{time2}. {subs} item(s) were substituted, see the app.",
        ),
        {
            "carrier": pick(*CARRIERS),
            "shop": pick("Amazon", "Flipkart", "ASOS", "Argos", "Myntra", "IKEA", "Zara", "Boots"),
            "restaurant": pick("Domino's", "McDonald's", "Biryani Blues", "KFC", "Wagamama", "Subway"),
            "time2": clock,
            "num": lambda rng: str(rng.randint(2, 120)),
            "stops": lambda rng: str(rng.randint(121, 160)),
            "safe_place": pick("porch", "garage", "behind the bin", "shed", "with reception", "meter cupboard"),
            "locker": pick("the InPost locker at Tesco", "an Amazon Locker", "the Royal Mail parcel locker"),
            "grocer": pick("Tesco", "Ocado", "Sainsbury's", "BigBasket", "Instacart", "Asda"),
            "subs": lambda rng: str(rng.randint(1, 4)),
            "track_link": lambda rng: rng.choice(
                (
                    f"amzn.to/{_alnum(rng, 7)}",
                    f"dhl.com/track?id={_digits(rng, 10)}",
                    f"https://www.royalmail.com/track-your-item#/{_digits(rng, 9)}",
                    f"fedex.com/fedextrack/?trknbr={_digits(rng, 12)}",
                    f"https://dl.flipkart.com/s/{_alnum(rng, 6)}",
                    f"evri.com/track/{_alnum(rng, 10)}",
                    f"https://tools.usps.com/go/TrackConfirmAction?tLabels={_digits(rng, 20)}",
                    short_link(rng),
                )
            ),
        },
        weight=1.4,
        prefixes=("DHL:", "Royal Mail:", "Amazon:", "JM-AMAZON", "VM-DLHVRY", "Evri:", "DPD:", "UPS:"),
        prefix_rate=0.15,
    ),
    Category(
        "appointment_booking",
        "ham",
        (
            "Reminder: your appointment with {doctor} is on {date} at {time}. Reply C to confirm or R to reschedule.",
            "Hi {name}, this is {salon} confirming your booking tomorrow at {time}. See you then!",
            "Your table for {num} at {restaurant} is confirmed for {date}, {time}. Call us if plans change.",
            "PNR {pnr}: Train {train} {city} to {city2}, {date}, coach B{num2} seat {seat}. Happy journey.",
            "Flight {flight} to {city2} on {date}: check-in is open. Boarding {time}, gate closes 20 min prior.",
            "Your Uber is arriving now. Look for a white {car}, plate {plate}.",
            "Your cab driver {name} is {mins} mins away. OTP for the ride: {code4}",
            "Dental check-up reminder: {date} {time} at {street} Dental. Reply STOP to opt out of reminders",
            "Your vaccination slot is booked: {date}, {time} at {city} health centre. Carry photo ID.",
            "Hi {name}, your car service is booked at {time} on {date}. We'll text when it's ready.",
            "IndiGo: your flight {flight} is delayed, new departure {time}. We regret the inconvenience.",
            "Your Ola ride with {name} is confirmed. Vehicle {plate}, arriving in {mins} min.",
            "Your prescription is ready to collect from {street} pharmacy until {date}.",
            "Hello {name}, we've updated your appointment to {date} at {time}. Reply C to confirm.",
            "You'll receive a reminder 1 day before your visit. Our address: {num} {street}, {city}.",
            "Booking confirmed: {num} tickets for {movie}, {date} {time}, screen {num2}. Show this SMS at the door.",
            "{surgery}: appointment reminder for {date} at {time} with {doctor}. Reply C to cancel if you can't "
            "make it.",
            "{vet}: {pet} is due a booster vaccination. Call us or book online.",
            "Your MOT at {garage} is booked for {date} at {time}. Please drop the car off 10 mins early.",
            "Reminder: {pet}'s appointment at {vet} is tomorrow at {time}. Reply C to cancel.",
            "Your flu jab is booked for {date} at {time} at {city} Pharmacy. Bring your NHS number if you have it.",
            "Hygienist appointment confirmed: {date} {time}. A {cancel_fee} fee applies if you cancel with less "
            "than 24h notice.",
            "Your eye test at {optician} is on {date} at {time}. Reply Y to confirm or N to cancel.",
            "Physio reminder: {date}, {time} with {name}. Please wear comfortable clothes.",
            "Your child's vaccination is due. Book with the practice nurse at {surgery}.",
        ),
        {
            "doctor": pick(*DOCTORS),
            "salon": pick("Glow Salon", "Cutz Barbers", "Lakme Salon", "The Hair Lounge", "Nail Bar"),
            "restaurant": pick("Dishoom", "The Ivy", "Olive Garden", "Social", "Toit", "Bombay Canteen"),
            "num": lambda rng: str(rng.randint(2, 8)),
            "num2": lambda rng: str(rng.randint(1, 9)),
            "train": lambda rng: _digits(rng, 5),
            "city2": pick(*CITIES),
            "seat": lambda rng: str(rng.randint(1, 72)),
            "flight": lambda rng: rng.choice(("6E", "AI", "BA", "UA", "EK", "UK", "LH")) + " " + _digits(rng, 3),
            "car": pick("Toyota Prius", "Swift Dzire", "Honda City", "Skoda Octavia", "Kia Niro", "Tesla Model 3"),
            "plate": lambda rng: rng.choice(
                (f"MH 12 AB {_digits(rng, 4)}", f"KA 05 {_digits(rng, 4)}", f"LB{_digits(rng, 2)} XKD", "7ABC123")
            ),
            "movie": pick("Dune Part Two", "Jawan", "Oppenheimer", "Pathaan", "Inside Out 2", "Barbie"),
            "surgery": pick("Park Lane Surgery", "Riverside Medical Practice", "Elm Tree GP", "Smile Dental Care"),
            "vet": pick("Vets4Pets", "Medivet", "Paws Clinic", "Riverside Vets"),
            "pet": pick("Bella", "Max", "Coco", "Bruno", "Luna", "Milo"),
            "garage": pick("Kwik Fit", "Halfords Autocentre", "Station Garage", "ATS Euromaster"),
            "optician": pick("Specsavers", "Vision Express", "Lenskart", "Boots Opticians"),
            "cancel_fee": lambda rng: money(rng, 10, 40, "£$€"),
        },
        weight=1.3,
    ),
    Category(
        "bill_notice",
        "ham",
        (
            "Your {utility} bill of {amount} for {month} is ready. Pay by {date} in the app.",
            "Payment received: {amount} towards your {utility} account. Thank you.",
            "Your electricity bill for consumer no. {ref} is {inr}, due {date}. Pay via UPI or the {utility} app.",
            "{utility}: your direct debit is changing from {amount} to {amount2} from {date}.",
            "Thanks for paying your council tax. Next instalment of {amount} is due on {date}.",
            "Your {telco} bill is {amount}. It'll be collected on {date}. See details at {telco_link}",
            "Your prepaid plan expires on {date}. Recharge anytime on the {telco} app to stay connected.",
            "We have received your meter reading. Your next bill will be based on it.",
            "Planned power outage in {city} on {date} from {time} for maintenance. Sorry for the inconvenience.",
            "Water supply will be interrupted on {street} tomorrow 10am-2pm due to pipe repair.",
            "Your {telco} data usage has reached 80% of your monthly allowance.",
            "Reminder: your {utility} bill of {amount} is unpaid and due on {date}. Pay in the app to avoid a "
            "late fee.",
            "Limited data left: 200MB remaining on your {telco} plan until {date}.",
            "Hello, our engineer will visit on {date} between {time} and 6pm to update your meter.",
        ),
        {
            "utility": pick("BSES", "Tata Power", "Octopus Energy", "British Gas", "PG&E", "EDF", "Mahanagar Gas"),
            "telco": pick("Jio", "Airtel", "Vi", "EE", "Vodafone", "Verizon", "T-Mobile"),
            "amount": lambda rng: money(rng, 8, 450),  # a household bill, not a salary
            "amount2": lambda rng: money(rng, 8, 450),
            "month": pick("Jan", "February", "March", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov"),
            "telco_link": lambda rng: (
                rng.choice(("ee.co.uk/mybill", "airtel.in/s/bill", "jio.com/mybill", "vz.to/")) + (_alnum(rng, 5))
            ),
        },
        weight=0.8,
        prefixes=("VM-JIOINF", "AD-AIRTEL", "EE:", "[BSES]"),
        prefix_rate=0.15,
    ),
    Category(
        "two_fa_alert",
        "ham",
        (
            "New sign-in to your {service} account from {device} in {city}. If this was you, no action needed.",
            "{service}: new login on {device}. Review it at {legit_short} if you don't recognise it.",
            "Verify your new email for {service} in the app. Link expires in {mins} mins.",
            "{service}: your password was changed on {date}. If you didn't do this, reset it in the app.",
            "We noticed a login from a new device. If this was you, you can ignore this message. - {service}",
            "Your {service} account was accessed from {device}. Not you? Go to Settings > Security.",
            "Your email address was updated on your {service} account. If this wasn't you, contact support in the app.",
            "{service} security alert: 2-step verification turned on for your account.",
            "Someone tried to sign in to your {service} account. We blocked it. Review activity in the app.",
            "A new device was linked to your WhatsApp account on {date} at {time}.",
        ),
        {
            "service": pick(*TWO_FA_SERVICES),
            "device": pick("iPhone", "Windows PC", "Chrome on Mac", "Android phone", "Firefox on Linux", "iPad"),
        },
        weight=0.8,
    ),
    Category(
        "group_notice",
        "ham",
        (
            "Please fill the trip consent form by {date}: {legit_short}",
            "Annual day photos are up: {legit_short} - Class teacher",
            "Team lunch on {date} at {time}. RSVP here: {legit_short}",
            "Reminder: society maintenance of {amount} due by {date}. Pay on the app or at the office.",
            "School closed on {date} due to heavy rain. Classes resume the next day. - Principal",
            "Reminder: PTM for class {grade} on {date} at {time}. Parents please attend.",
            "Team, stand-up moved to {time} tomorrow. Same link.",
            "Society notice: lift maintenance on {date}, {time} to 4pm. Please use stairs.",
            "Dear parents, fee for term 2 is due by {date}. Pay online through the school portal.",
            "Hi all, the office will be closed on {date}. Urgent issues: call {name} on {phone}.",
            "Football practice is cancelled tonight, pitch is waterlogged. See you Saturday.",
            "Hello parents, our annual day is on {date}. Please join us at {time} in the school hall.",
            "Our clinic number has changed. Please save the new number {phone}.",
            "Daily standup is off on {date}, see you all the day after.",
            "Choir rehearsal moved to Thursday {time} in the church hall.",
            "Your child {name} was marked absent today. Please inform the class teacher if this is wrong.",
            "Library books are due back on {date}. Renew online to avoid fines.",
            "Urgent: water tank cleaning tomorrow morning, store water tonight. - RWA",
            "Payroll: payslips for {month} are now available on the HR portal.",
        ),
        {
            "grade": pick("3A", "5B", "7", "9C", "10", "12 Science"),
            "month": pick("January", "March", "June", "August", "October", "December"),
        },
        weight=0.8,
    ),
    Category(
        "personal_chat",
        "ham",
        (
            "check this out {legit_short} {chat_emoji}",
            "got the offer!! joining next month {chat_emoji}",
            "Here's the menu, pick what u want {legit_short}",
            "this is the flat I told u about {legit_short}",
            "can you claim the parcel from reception, it's under my name",
            "omw, {mins} mins{tail}",
            "can u grab {grocery} on ur way back{tail}",
            "Running late, be there by {time}{tail}",
            "just sent u a voice note, listen when free",
            "{name} is coming too, is that ok?{tail}",
            "Landed! Will call when I'm home {chat_emoji}",
            "dinner at {restaurant} {day}? my treat{tail}",
            "Did you pay the electricity bill or should I?",
            "Sent you {amount} for the cab, check gpay",
            "Can you send me the link for the {thing} again?",
            "Kids are asleep finally {chat_emoji}",
            "Happy anniversary you two!! {chat_emoji}",
            "Leaving office now, need anything from the shop?",
            "The delivery guy came, I left your parcel with {name}",
            "Call me when you get a sec, need to ask you about {day}",
            "Urgent - did you take my keys by mistake? {chat_emoji}",
            "ok see u at {time} near {place}",
            "Whats the wifi password again",
            "Mum wants to know if you're coming {day}",
            "{name} got the job!! {chat_emoji}",
            "Can u pick {name} up from school today, I'm stuck in a meeting",
            "Traffic is mad, {mins} more mins{tail}",
            "Don't forget {name}'s birthday {day}, I got a card",
            "sorry missed ur call, in the gym. what's up?",
            "hello?? are u there",
            "my friend {name} needs a room for 2 nights, can she stay at ours?",
            "I'll update you once I reach {place}",
            "save my new number pls, old sim stopped working - {name}",
            "you should apply for that job, deadline is {day}",
            "50% off at the bakery near ours, want anything?",
            "Booked the tickets, sent u the screenshot",
            "hey did u get home ok?",
            "Can you share the {thing} on the group pls",
            "yes pls! count me in for {day}{tail}",
            "We're at {place}, table near the window",
            "I'll transfer my share tonight, how much was it? {amount}?",
            "Good morning! how's the fever now?",
            "The plumber said he'll come at {time}, can you let him in",
            "Haha I can't believe that happened {chat_emoji}",
            "Bring a jacket, it's freezing at {place}",
            "Just got your voice message, yes that works",
            "where r u? we're waiting at the entrance",
            "Thx for today, had a great time {chat_emoji}",
            "Dad's train reaches at {time}, can you pick him up?",
            "Left the charger at yours again {chat_emoji}",
            "Send me the otp pls, I'm logging into the netflix on the tv",
        ),
        {
            "grocery": pick("milk", "bread", "eggs", "bananas", "coffee", "dahi", "onions", "nappies", "dog food"),
            "restaurant": pick("the Thai place", "Nando's", "Saravana Bhavan", "that new pizza spot", "Leon's"),
            "day": pick("tonight", "tomorrow", "Saturday", "Sunday", "on Friday", "this weekend", "next week"),
            "thing": pick("zoom call", "photos", "notes", "form", "restaurant", "recipe", "Airbnb", "playlist"),
            "place": pick("the station", "the mall", "gate 2", "the park", "Starbucks", "the cinema", "the beach"),
            "tail": pick(*CHAT_TAILS),
        },
        weight=1.6,
    ),
    Category(
        "hinglish_chat",
        "ham",
        (
            "Bhai kal {time} baje milte hai {place} pe",
            "Mummy ne bola ghar jaldi aana, khana ready hai",
            "Kahan ho? Hum {place} pe wait kar rahe hai",
            "Aaj late ho jayega, {mins} min mein nikalta hoon",
            "Yaar {thing} bhej de na group pe",
            "Papa ka train {time} baje aa raha hai, station chale jaana",
            "Kal office nahi aa raha, tabiyat thodi kharab hai",
            "Aapka order {order} aaj deliver hoga. Dhanyavaad!",
            "{name} ka birthday {day} hai, gift le aana",
            "Haan theek hai, main {time} tak pahunch jaunga{tail}",
            "Bhai paise bhej diye {amount}, check kar le",
            "Dudh aur bread le aana please, ghar pe khatam ho gaya",
            "Call kar jab free ho, urgent baat karni hai",
            "Aapki appointment {date} ko {time} baje confirm hai. - {doctor} clinic",
            "Chal movie dekhte hai {day}? Ticket book kar du?",
            "Beta pahunch gaye? Message kar dena",
            "Turant ghar aa jao, mummy bula rahi hai",
            "Kal ke liye cake order kar diya, {time} tak aa jayega.",
            "Party ke liye {name} ko bhi bula lena",
        ),
        {
            "place": pick("metro station", "college gate", "mall", "chai tapri", "office ke bahar", "Dadar"),
            "thing": pick("notes", "photos", "location", "PDF", "address"),
            "day": pick("kal", "parson", "Sunday ko", "aaj", "agle hafte"),
            "doctor": pick(*DOCTORS),
            "tail": pick("", "", " 👍", " bhai", " yaar", " ok"),
        },
        weight=1.0,
    ),
    Category(
        "service_notice",
        "ham",  # refunds, receipts, renewals from a service the customer uses: the hard side of promotions
        (
            "Your {retailer} refund of {amount} has been processed and will reflect in 5-7 days.",
            "Thanks for shopping at {retailer}! Your receipt: {receipt}",
            "Your {service} plan renews on {date} for {amount}. Manage it in your account settings.",
            "We've received your {retailer} return. Refund to your original payment method within 3 days.",
            "Your {service} free trial ends on {date}. You won't be charged if you cancel before then.",
            "Your cashback of {amount} from {retailer} has been added to your wallet.",
            "Your insurance policy {ref} has been renewed. Documents sent to your registered email.",
            "Hi {name}, your {retailer} gift card balance is {amount}.",
            "Your KYC with {retailer} Pay is complete. No further action is needed.",
            "Your insurance claim {ref} has been approved. Amount of {amount} will be paid to your account.",
            "Your {service} receipt for {amount} is here: {legit_short}",
            "Thanks for your feedback! Rate your recent {retailer} order: {legit_short}",
            "Your offer letter from {retailer} has been emailed. Accept it on the careers portal by {date}.",
        ),
        {
            "retailer": pick(*RETAILERS),
            "service": pick(*SERVICES),
            "amount": lambda rng: money(rng, 3, 300),
            "receipt": lambda rng: (
                rng.choice(("receipts.", "r.")) + rng.choice(("squareup.com/", "zomato.com/")) + _alnum(rng, 8)
            ),
        },
        weight=0.6,
    ),
    Category(
        "brand_transactional",
        "ham",  # the same brands as promo_optin, about the customer's own order, points or receipt
        (
            "{brand}: your order {order} has shipped and should arrive by {date}. Track it: {brand_link}",
            "{brand} Rewards: you have {points} points, worth {money_off}. They'll be there next time you shop.",
            "Thanks for shopping at {brand}. Your e-receipt for {spend} is in the app under Purchases.",
            "Your {brand} click & collect order {order} is ready at the {city} store. Bring your order number.",
            "{brand}: we've received your return and refunded {spend} to your card ending {code4}.",
            "Hi {name}, your {brand} order {order} has been cancelled as requested. You have not been charged.",
            "{brand}: your password was reset. If you didn't request this, contact us through the app.",
            "Your {brand} card is now linked to your account. Points from today's visit: {points_small}.",
            "{brand} order update: one item in order {order} was out of stock and has been refunded ({spend}).",
            "Your {brand} points statement: {points} points earned in {month}, {points_small} redeemed.",
            "{brand}: your order is out for delivery today. Someone needs to be home to sign for it.",
            "Hi {name}, {points_small} points from your {brand} account were turned into a {money_off} voucher. "
            "It's in your app until {date}.",
            "Your {brand} order {order} is confirmed. Total paid {spend}. We'll text you when it ships.",
        ),
        {
            "brand": pick(*MEMBER_BRANDS),
            "brand_link": lambda rng: rng.choice(MEMBER_LINKS) + _alnum(rng, 5),
            "money_off": lambda rng: money(rng, 1, 25, "£$€₹"),
            "spend": lambda rng: money(rng, 4, 180, "£$€₹"),
            "points": points,
            "points_small": lambda rng: str(rng.randint(5, 900)),
            "month": pick("January", "March", "May", "July", "September", "November"),
        },
        weight=1.0,
        prefixes=brand_prefixes(MEMBER_BRANDS),
        prefix_rate=0.3,
        opt_out_rate=0.08,
    ),
    Category(
        "subscription_receipt",
        "ham",  # renewals and receipts from real services, with the services' own account pages
        (
            "Your {service} subscription renews on {date}. You'll be charged {price}. To change your plan visit "
            "{account_link}",
            "Receipt: {price} paid to {service} on {date}. Order ID {order}. Questions? {account_link}",
            "{insurer}: your home insurance renews on {date}. Your documents are in your online account. No "
            "action needed to stay covered.",
            "{insurer}: your car insurance renewal price is {price_big} a year. Log in to review it before {date}.",
            "Thanks! Your {service} payment of {price} went through. Next billing date: {date}.",
            "Your annual {service} membership was renewed for {price}. You can turn off auto-renew in account "
            "settings.",
            "Heads up: the price of your {service} plan changes to {price} from {date}. Details in your account.",
            "You've cancelled {service}. You can keep using it until {date}.",
            "{service}: we couldn't take your payment of {price}. We'll try again on {date}. You can update your "
            "card in the app.",
            "Your {insurer} travel insurance policy {ref} starts on {date}. Your certificate is in the app.",
            "Your free trial of {service} has started. Your first payment of {price} is on {date}.",
            "{service} family plan: {name} has joined your plan. Manage members at {account_link}",
            "Thank you for your donation of {price} to {charity}. Your Gift Aid receipt has been emailed to you.",
        ),
        {
            "service": pick(*SUBSCRIPTIONS),
            "charity": pick("Oxfam", "Cancer Research UK", "the RSPCA", "British Red Cross", "GiveIndia"),
            "insurer": pick("Aviva", "Direct Line", "Admiral", "LIC", "HDFC ERGO", "Geico", "State Farm", "Churchill"),
            "price": lambda rng: money(rng, 1.99, 149, "£$€₹"),
            "price_big": lambda rng: money(rng, 250, 1400, "£$€"),
            "account_link": lambda rng: with_scheme(rng, rng.choice(ACCOUNT_LINKS)),
        },
        weight=0.9,
    ),
    Category(
        "support_case",
        "ham",
        (
            "Thanks for getting in touch with {brand} Customer Care. Your reference is {case}. We'll reply within "
            "{days} working days.",
            "{brand}: we've opened ticket {case} for your request. Reply to our email if you have more details.",
            "Your complaint {case} has been resolved. If you're not happy with the outcome, reply to our email.",
            "Hi {name}, this is {agent} from {brand}. I've escalated case {case} and will update you by {date}.",
            "{brand} Support: your callback is booked for {date} between {time} and {time2}. Case {case}.",
            "Your repair request {case} is confirmed. An engineer will visit on {date}.",
            "{brand}: we've closed your case {case}. Tell us how we did: {survey}",
            "Your {brand} chat transcript for case {case} has been sent to your email.",
            "Update on case {case}: we've issued a refund of {price}. It can take up to 5 working days to show.",
            "Your {brand} device repair {case} is ready to collect from the {city} store.",
            "{brand}: we're still looking into case {case}. Sorry for the wait, no action needed from you.",
        ),
        {
            "brand": pick("Apple", "Samsung", "BT", "Sky", "Virgin Media", "Vodafone", "Amazon", "Airtel", "Dell"),
            "case": case_number,
            "agent": pick("Priya", "Mark", "Sana", "Dave", "Anjali", "Chris", "Fatima"),
            "days": pick("2", "3", "5"),
            "time2": clock,
            "price": lambda rng: money(rng, 5, 400, "£$€₹"),
            "survey": lambda rng: (
                rng.choice(("survey.sky.com/", "bt.com/feedback/", "g.co/", "apple.co/")) + _alnum(rng, 6)
            ),
        },
        weight=0.6,
    ),
    Category(
        "civic_notice",
        "ham",  # councils, NHS, DVLA, elections, schools and utilities that really text people
        (
            "Your council tax bill for {year} is ready. See it in your online account or wait for it in the post. "
            "- {council}",
            "NHS: your appointment at {hospital} is on {date} at {time}. To cancel or rearrange, call {uk_phone}.",
            "DVLA: the vehicle tax for {reg} runs out on {date}. Renew it online or at a Post Office.",
            "{utility}: planned work in your area on {date} from {time}. Your supply may be off for up to {hours} "
            "hours.",
            "Time for a meter reading! Reply with your reading or add it in the {utility} app.",
            "Your polling station for the election on {date} is {venue}. Polls open 7am to 10pm. Bring photo ID.",
            "{school}: the school will be closed tomorrow due to snow. Home learning will be on the usual platform.",
            "{council}: your bin collection moves to {weekday} this week because of the bank holiday.",
            "Reminder from {surgery}: your flu vaccination is due. Call the surgery to book.",
            "HMRC: we've received your Self Assessment tax return for {year}. You don't need to do anything else.",
            "Passport Office: your application {ref} has been approved. Your passport will arrive within 7 days.",
            "The MOT for {reg} is due on {date}. Book a test at any approved garage.",
            "Electoral registration: you have been added to the register at your address. No need to reply.",
            "Heat health alert for {city} tomorrow. Drink plenty of water and check on elderly neighbours.",
            "{council}: {street} will be closed from {date} for resurfacing. Diversions will be signposted.",
            "Your water bill for {year} is {amount}. Pay by direct debit or through your online account.",
        ),
        {
            "year": pick("2023/24", "2024/25", "2025/26", "2022-23", "2024"),
            "council": pick("Leeds City Council", "Camden Council", "Bristol City Council", "Pune Municipal Corp"),
            "hospital": pick("St Mary's Hospital", "Leeds General Infirmary", "the Royal Free", "Southmead Hospital"),
            "reg": uk_plate,
            "utility": pick("UK Power Networks", "Thames Water", "Octopus Energy", "BSES", "Severn Trent", "EDF"),
            "venue": pick("St John's Church Hall", "Park Road Primary School", "the Community Centre", "the Library"),
            "school": pick("Oakfield Primary", "St Anne's School", "Greenwood Academy", "DPS"),
            "weekday": pick("Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
            "surgery": pick("Park Lane Surgery", "The Health Centre", "Riverside Medical Practice", "Elm GP"),
            "amount": lambda rng: money(rng, 90, 900, "£"),
        },
        weight=1.0,
        prefixes=("NHS:", "GOVUK:", "[Council]", ""),
        prefix_rate=0.1,
    ),
    Category(
        "community_notice",
        "ham",  # housing society, RWA and neighbourhood groups, in English and Hinglish
        (
            "Dear residents, water supply will be off on {date} from {time} for tank cleaning. Please store water.",
            "Society notice: pani ki supply kal {time} se 4 baje tak band rahegi, maintenance ke liye.",
            "RWA: Diwali celebration in the clubhouse on {date} at {time}. All residents welcome.",
            "Block {block} residents: the lift will be under service on {date}. Sorry for the trouble.",
            "From {date} all visitors must be approved in the {app} app at the gate.",
            "Residents please note: pest control in the common areas tomorrow, keep pets inside.",
            "Bijli ka kaam chal raha hai, {time} se {time2} tak power cut rahega. - Society office",
            "Neighbourhood watch: a parcel thief was seen on {street} today. Please bring deliveries in quickly.",
            "Maintenance charges for {month} are {inr}. Pay through {app} or at the office by {date}.",
            "Kal subah garbage collection nahi hoga, kripya kooda andar rakhein. - RWA",
            "Parking reminder: please don't park in front of Gate {num}. The fire exit must stay clear.",
            "The community hall is booked for a wedding on {date}. Parking will be limited that evening.",
            "Sabhi residents se request hai ki {date} ko AGM mein zaroor aayein, {time} baje clubhouse mein.",
        ),
        {
            "block": pick("A", "B", "C", "D", "E", "Tower 2", "Wing C"),
            "app": pick("MyGate", "NoBrokerHood", "ADDA", "Nextdoor", "ApnaComplex"),
            "time2": clock,
            "month": pick("January", "April", "July", "October", "December"),
            "num": lambda rng: str(rng.randint(1, 4)),
        },
        weight=0.6,
    ),
    Category(
        "money_chat",
        "ham",  # friends and family on money, links, prizes, scams and new numbers
        (
            "Ugh I tapped a link in a fake {carrier} text before I realised. Changing my passwords now",
            "Got a text saying I owe a toll fee lol, deleting it",
            "Office raffle: I won a {prize_money} voucher for {restaurant} {chat_emoji}",
            "Photos from {event} are here {legit_short} - add yours too",
            "Can you send me your share for the Airbnb? It was {amount} each",
            "I'll pay you back for the tickets on Friday, remind me if I forget",
            "Mum got one of those 'hi mum new number' texts today, she nearly replied",
            "hey it's {name}, switched networks so this is my new number. same whatsapp though{tail}",
            "Did you get a weird message from my Instagram? Ignore it, I got hacked",
            "Splitwise says you owe me {amount} {chat_emoji} no rush",
            "My bank froze my card after a fraud alert, can you cover lunch and I'll send it tonight?",
            "The airline refund finally came through! {amount} back",
            "Here's the fundraiser page for {name}'s marathon {legit_short}",
            "I got the code, you can log in now",
            "Someone rang pretending to be from {bank} and asked for my OTP, I hung up. Be careful",
            "Sending the rent now, {amount} as usual",
            "lol just got a text saying I won an iPhone, obviously fake",
            "Is that link you sent safe? It looks odd on my phone",
            "Paid the deposit for the holiday, here's the booking {legit_short}",
            "Did u get paid yet? Mine hasn't come in",
            "Can you lend me {amount} till payday? Will send it back on the 1st",
            "Remember to cancel the free trial before it charges you",
            "Checked it, the parcel text is real, the tracking on the {carrier} site matches",
            "We won the school raffle! a {prize} {chat_emoji}",
            "Don't click anything in that 'account suspended' text, it went to everyone at work",
            "Transferred {amount} for the gift, let me know if it arrived",
            "I donated to {name}'s fundraiser, link if you want to chip in {legit_short}",
        ),
        {
            "carrier": pick(*CARRIERS),
            "amount": lambda rng: money(rng, 5, 900),  # a friend's share, not a salary
            "prize_money": lambda rng: money(rng, 20, 100, "£$€"),
            "restaurant": pick("Pizza Express", "the Italian place", "Dishoom", "the pub", "Wagamama"),
            "event": pick("the wedding", "Sam's 30th", "the trip", "sports day", "the hike"),
            "bank": pick(*BANKS),
            "prize": pick("hamper", "giant teddy", "bottle of wine", "meal voucher", "scooter"),
            "tail": pick(*CHAT_TAILS),
        },
        weight=1.1,
    ),
)


class _Filled(dict):
    """Template slot values, drawn on first use so each placeholder in one template gets one value."""

    def __init__(self, rng: random.Random, slots: dict[str, Slot]) -> None:
        super().__init__()
        self._rng = rng
        self._slots = slots

    def __missing__(self, key: str) -> str:
        slot = self._slots.get(key) or COMMON_SLOTS[key]
        value = self[key] = slot(self._rng)
        return value


def add_noise(text: str, category: Category, rng: random.Random) -> str:
    """Sender prefix, opt-out suffix, emoji, casing and punctuation changes, at rates shared by both labels."""
    if category.prefixes and rng.random() < category.prefix_rate:
        text = f"{rng.choice(category.prefixes)} {text}"
    if rng.random() < category.opt_out_rate:
        text = f"{text.rstrip()} {opt_out(rng)}"
    roll = rng.random()
    if roll < 0.06:
        text = text.lower()
    elif roll < 0.09:
        text = text.upper()
    elif roll < 0.12:
        text = text[0].upper() + text[1:] if text else text
    if rng.random() < 0.1 and text[-1:] in ".!":
        text = text[:-1]
    elif rng.random() < 0.05:
        text = text.rstrip(".") + rng.choice(("!!", "!", " ..", "?!"))
    if rng.random() < 0.08:
        text = f"{text} {rng.choice(EMOJIS_ANY)}"
    return " ".join(text.split())


def quotas(categories: tuple[Category, ...], total: int) -> list[int]:
    weights = [c.weight for c in categories]
    shares = [int(total * w / sum(weights)) for w in weights]
    for index in range(total - sum(shares)):  # the remainder, one each, in order
        shares[index % len(shares)] += 1
    return shares


def generate(
    seed: int = SEED, per_label: int = PER_LABEL, forbidden: set[str] | None = None
) -> list[tuple[str, str, str]]:
    """(label, category, text) rows, all distinct by `dedup_key` and none in `forbidden` (keys of texts to avoid)."""
    rng = random.Random(seed)
    seen = set(forbidden or ())
    rows: list[tuple[str, str, str]] = []
    for categories in (SPAM, HAM):
        for category, quota in zip(categories, quotas(categories, per_label), strict=True):
            made = 0
            attempts = 0
            while made < quota and attempts < quota * ATTEMPTS_PER_MESSAGE:
                attempts += 1
                template = rng.choice(category.templates)
                text = add_noise(template.format_map(_Filled(rng, category.slots)), category, rng)
                key = dedup_key(text)
                if key in seen or "\t" in text or "\n" in text:
                    continue
                seen.add(key)
                rows.append((category.label, category.name, text))
                made += 1
    # Interleave the categories so that a reader of the file (or a head -n) sees a mix, deterministically.
    random.Random(seed + 1).shuffle(rows)
    return rows


def forbidden_keys() -> set[str]:
    """Texts the output must never equal: the probe (never trained on) and the SMS Spam Collection."""
    return {dedup_key(e.text) for path in (PROBE, COLLECTION) for e in read_collection(path)}


def render(rows: list[tuple[str, str, str]]) -> str:
    return "".join(f"{label}\t{text}\n" for label, _, text in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed TSV differs from the output")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    rows = generate(forbidden=forbidden_keys())
    content = render(rows)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != content:
            print(f"{args.output} is stale: run scripts/generate_modern_sms.py to regenerate it", file=sys.stderr)
            return 1
        print(f"{args.output} matches the generator ({len(rows)} rows)")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
    counts = Counter((category, label) for label, category, _ in rows)
    for (category, label), count in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0])):
        print(f"{label}\t{category}\t{count}")
    print("total\t" + ", ".join(f"{label} {n}" for label, n in sorted(Counter(r[0] for r in rows).items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
