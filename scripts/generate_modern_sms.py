"""Write data/modern/modern_sms.tsv: synthetic SMS in the style of 2018-2025 traffic, labelled by construction.

The SMS Spam Collection (2012) has no shortened links, smishing, one-time codes or Hinglish, so a model trained on
it alone flags legitimate OTPs and bank alerts. This generator fills templates (many per category, different
sentence shapes) with slot values drawn from lists, then adds casing, punctuation, emoji, sender-prefix and
opt-out noise. The category decides the label; promotional marketing counts as spam, as in the evaluation set.
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
PER_LABEL = 1600
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
        ),
        {
            "merchant": pick(*MERCHANTS),
            "service": pick(*TWO_FA_SERVICES, "Uber", "Swiggy", "Paytm", "PhonePe", "Zepto", "Revolut"),
            "bank": pick(*BANKS),
        },
        weight=1.3,
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
        ),
        {
            "bank": pick(*BANKS),
            "merchant": pick(*MERCHANTS, "Tesco Express", "Shell", "Costa", "Apple.com/bill"),
            "amount2": lambda rng: money(rng, 1000, 90000),
            "small": lambda rng: f"{rng.randint(10, 9999):,}.00",
            "utility": pick("British Gas", "Thames Water", "EE", "Vodafone", "Council Tax"),
        },
        weight=1.2,
        prefixes=(*INDIAN_HEADERS[:5], "[HDFC Bank]", "Barclays:", "Monzo:"),
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
        ),
        {
            "carrier": pick(*CARRIERS),
            "shop": pick("Amazon", "Flipkart", "ASOS", "Argos", "Myntra", "IKEA", "Zara", "Boots"),
            "restaurant": pick("Domino's", "McDonald's", "Biryani Blues", "KFC", "Wagamama", "Subway"),
            "time2": clock,
            "num": lambda rng: str(rng.randint(2, 120)),
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
        weight=1.2,
        prefixes=("DHL:", "Royal Mail:", "Amazon:", "JM-AMAZON", "VM-DLHVRY", "Evri:"),
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
        },
        weight=1.1,
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
