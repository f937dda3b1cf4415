"""The small fixed word lists that make a demo history read like a real bank and shop.

Cities are single words and streets hold no commas on purpose: schema-1 addresses were
stored as one line (``"street, postcode city, CC"``) and the upcaster must split them back
exactly.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "Daan",
    "Elif",
    "Farah",
    "Giulia",
    "Hugo",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Ursula",
    "Vera",
    "Willem",
    "Xenia",
    "Yusuf",
    "Zoë",
    "Amara",
    "Bram",
    "Carmen",
    "Dmitri",
    "Emma",
    "Finn",
    "Greta",
    "Hamza",
    "Isla",
    "Julien",
    "Katarzyna",
    "Luca",
    "Maja",
    "Niels",
    "Olga",
    "Pablo",
    "Ruth",
    "Sofia",
    "Tomás",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Ziad",
)

LAST_NAMES = (
    "de Vries",
    "Jansen",
    "Müller",
    "Schmidt",
    "Rossi",
    "Bianchi",
    "García",
    "Fernández",
    "Dubois",
    "Lefèvre",
    "Nowak",
    "Kowalski",
    "Smith",
    "Brown",
    "O'Neill",
    "Murphy",
    "Andersen",
    "Nielsen",
    "Johansson",
    "Virtanen",
    "Papadopoulos",
    "Yılmaz",
    "Haddad",
    "Mensah",
    "Okafor",
    "Silva",
    "Costa",
    "Novák",
    "Horvat",
    "Popescu",
    "Kovács",
    "Bakker",
    "Visser",
    "Meyer",
    "Wagner",
    "Moreau",
    "Laurent",
    "Ricci",
    "Marino",
    "Sánchez",
)

# (city, country, postcode pattern): '#' becomes a digit, '@' a capital letter.
CITIES = (
    ("Amsterdam", "NL", "10## @@"),
    ("Rotterdam", "NL", "30## @@"),
    ("Utrecht", "NL", "35## @@"),
    ("Berlin", "DE", "10###"),
    ("Hamburg", "DE", "20###"),
    ("München", "DE", "80###"),
    ("Paris", "FR", "750##"),
    ("Lyon", "FR", "6900#"),
    ("Milano", "IT", "201##"),
    ("Madrid", "ES", "280##"),
    ("Lisboa", "PT", "1###-###"),
    ("Dublin", "IE", "D0# @@##"),
    ("London", "GB", "EC1@ #@@"),
    ("Manchester", "GB", "M# #@@"),
    ("Brussel", "BE", "10##"),
    ("Wien", "AT", "1###"),
    ("Kraków", "PL", "30-###"),
    ("København", "DK", "1###"),
)

# Street names by country; the house number goes first where the country writes it so.
STREETS = {
    "NL": ("Keizersgracht", "Kerkstraat", "Parkweg", "Stationsweg", "Prinsengracht"),
    "DE": ("Lindenallee", "Bahnhofstraße", "Schillerstraße", "Hauptstraße", "Goethestraße"),
    "AT": ("Mariahilfer Straße", "Hauptstraße", "Lindengasse"),
    "FR": ("Rue des Lilas", "Boulevard Voltaire", "Rue du Marché", "Avenue Jean Jaurès"),
    "BE": ("Rue Royale", "Kerkstraat", "Avenue Louise"),
    "IT": ("Via Roma", "Corso Italia", "Via Garibaldi", "Via Dante"),
    "ES": ("Calle Mayor", "Calle de Alcalá", "Gran Vía"),
    "PT": ("Rua Augusta", "Avenida da Liberdade", "Rua do Ouro"),
    "IE": ("Main Street", "Church Road", "Mill Lane"),
    "GB": ("High Street", "Station Road", "Church Road", "Mill Lane"),
    "PL": ("ul. Długa", "ul. Floriańska", "ul. Grodzka"),
    "DK": ("Nørregade", "Vesterbrogade", "Strandvejen"),
}
NUMBER_FIRST = frozenset({"FR", "GB", "IE"})

EMAIL_DOMAINS = ("mail.example", "inbox.example", "post.example", "web.example")

TELLERS = ("teller:ana.silva", "teller:joost.devries", "teller:priya.shah", "teller:tom.becker")
COMPLIANCE_OFFICER = "officer:m.okafor"
BACK_OFFICE = "backoffice:l.moreau"
ATM = "service:atm-network"
PAYROLL = "service:payroll-gateway"
BILLING = "service:billing"
KYC_PROVIDER = "service:kyc-provider"
CHECKOUT = "service:shop-checkout"
WAREHOUSE = "service:warehouse"
MAINTENANCE = "service:snapshot-maintenance"

EMPLOYERS = ("Acme Logistics", "Northwind BV", "Contoso GmbH", "Globex SA", "Initech Ltd")

CARRIERS = ("PostNL", "DHL", "DPD", "UPS", "GLS")
SUPPLIERS = ("Nordic Wholesale", "Iberia Trading", "Alpine Goods", "Delta Distribution")

PRODUCT_WORDS = (
    ("Espresso", "Cups", 1299),
    ("Wool", "Scarf", 3450),
    ("Trail", "Backpack", 8999),
    ("Ceramic", "Teapot", 2499),
    ("Linen", "Tea Towel", 899),
    ("Oak", "Cutting Board", 3999),
    ("Cast Iron", "Skillet", 5499),
    ("Bamboo", "Toothbrush", 399),
    ("Glass", "Water Bottle", 1999),
    ("Leather", "Wallet", 4900),
    ("Cotton", "T-Shirt", 1999),
    ("Rain", "Jacket", 11900),
    ("Desk", "Lamp", 4599),
    ("Noise-Cancelling", "Headphones", 19900),
    ("USB-C", "Charger", 2499),
    ("Paperback", "Novel", 1250),
    ("Hiking", "Socks", 1499),
    ("Yoga", "Mat", 2999),
    ("French Press", "Coffee Maker", 3299),
    ("Scented", "Candle", 1599),
)

FEE_TYPES = ("monthly-maintenance", "card", "overdraft", "foreign-exchange")
CANCEL_REASONS = (
    "customer changed mind",
    "payment not received",
    "duplicate order",
    "out of stock",
)
REFUND_REASONS = ("item damaged in transit", "wrong size", "not as described", "late delivery")
FREEZE_REASONS = (
    "unusual activity flagged by transaction monitoring",
    "request from law enforcement",
    "identity document expired",
)
UNFREEZE_REASONS = ("review completed, no further action", "documents received")
CORRECTION_REASONS = (
    ("fee charged twice; refund of the duplicate", 1),
    ("cash deposit counted short at branch", 1),
    ("card payment booked twice by the acquirer", 1),
    ("ATM dispensed less than booked", 1),
)
TRANSFER_REFERENCES = (
    "rent",
    "invoice",
    "birthday present",
    "shared dinner",
    "savings",
    "loan repayment",
    "holiday booking",
    "utilities",
    "school trip",
    "concert tickets",
)
