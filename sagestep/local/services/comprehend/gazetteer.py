"""The word lists of the local entity recognizer (:mod:`.entities`): small on purpose, and only names whose type
is hardly ever in doubt. A name that is not here is found only by the patterns (a title before a name, a company
suffix, "in <Place>"), or not at all: the local recognizer is a stand-in for Comprehend's model, not a model."""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` (the lists below are written as text, to keep them short)."""
    return tuple(text.split())


MONTHS = words(
    "January February March April June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
)  # "May" is matched only beside a day or a year (it is also a verb)
WEEKDAYS = words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
RELATIVE_DAYS = ("today", "tomorrow", "yesterday", "tonight")

#: Honorifics before a person's name (not part of the PERSON span).
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Professor", "Sir", "Dame", "Lord", "Lady", "President")

#: Frequent given names (English-speaking, European, a few more): a capitalised one starts a PERSON.
GIVEN_NAMES = frozenset(
    words(
        "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony "
        "Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Edward Ronald Timothy Jason Jeffrey Ryan "
        "Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Frank Gregory Peter "
        "Patrick Jack Dennis Jerry Alexander Tyler Henry Adam Nathan Oliver Harry Leo Lucas Noah Liam Ethan "
        "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty Margaret Sandra "
        "Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah Stephanie Rebecca Sharon Laura "
        "Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela Nicole Emma Samantha Katherine Christine "
        "Rachel Catherine Maria Heather Diane Julie Olivia Sophia Isabella Charlotte Amelia Mia Alice Grace Jane "
        "Hans Klaus Jürgen Wolfgang Stefan Andreas Thomas Michael Anna Ursula Petra Sabine Monika Claudia "
        "Jean Pierre Michel Philippe Alain Nicolas Marie Nathalie Isabelle Sophie Camille Juan Carlos José Luis "
        "Javier Miguel Carmen Lucía Sofía Marco Giuseppe Giovanni Luca Francesca Giulia Chiara João Pedro Ana "
        "Ahmed Mohammed Ali Fatima Aisha Raj Priya Amit Wei Li Yuki Hiroshi Kenji Min Jin Ji"
    )
)

#: Organizations known by name alone.
ORGANIZATIONS = (
    "Amazon Web Services",
    "Amazon",
    "AWS",
    "Google",
    "Alphabet",
    "Microsoft",
    "Apple",
    "IBM",
    "Meta",
    "Facebook",
    "Netflix",
    "Tesla",
    "Intel",
    "NVIDIA",
    "Nvidia",
    "Oracle",
    "Salesforce",
    "SAP",
    "Siemens",
    "Samsung",
    "Sony",
    "Toyota",
    "Volkswagen",
    "Airbus",
    "Boeing",
    "OpenAI",
    "United Nations",
    "European Union",
    "European Commission",
    "NATO",
    "NASA",
    "UNESCO",
    "UNICEF",
    "World Health Organization",
    "WHO",
    "FBI",
    "CIA",
    "IMF",
    "World Bank",
)

#: Suffixes that end an organization's name ("Acme Corp.", "Stanford University").
ORGANIZATION_SUFFIXES = (
    "Inc.",
    "Inc",
    "Ltd.",
    "Ltd",
    "LLC",
    "LLP",
    "Corp.",
    "Corp",
    "Corporation",
    "Co.",
    "Company",
    "GmbH",
    "AG",
    "S.A.",
    "SA",
    "PLC",
    "plc",
    "Group",
    "Holdings",
    "Technologies",
    "University",
    "College",
    "Institute",
    "Bank",
    "Agency",
    "Foundation",
    "Association",
    "Council",
    "Committee",
    "Ministry",
    "Department",
    "Hospital",
    "Airlines",
)
#: Heads of "<Head> of <Name>" organizations ("University of Oxford", "Bank of England").
ORGANIZATION_HEADS = ("University", "Bank", "Ministry", "Department", "Institute", "College", "Office", "Board")

#: Products and services (Comprehend's COMMERCIAL_ITEM).
COMMERCIAL_ITEMS = (
    "Amazon Comprehend",
    "Amazon Textract",
    "Amazon Translate",
    "Amazon SageMaker",
    "Amazon S3",
    "Amazon EC2",
    "AWS Lambda",
    "SageMaker",
    "Kindle",
    "Alexa",
    "iPhone",
    "iPad",
    "MacBook",
    "Windows",
    "Android",
    "PlayStation",
    "Xbox",
)

COUNTRIES = (
    *words(
        "Afghanistan Albania Algeria Argentina Armenia Australia Austria Azerbaijan Bangladesh Belarus Belgium "
        "Bolivia Brazil Bulgaria Cambodia Cameroon Canada Chile China Colombia Croatia Cuba Cyprus Czechia Denmark "
        "Ecuador Egypt Estonia Ethiopia Finland France Georgia Germany Ghana Greece Hungary Iceland India Indonesia "
        "Iran Iraq Ireland Israel Italy Jamaica Japan Jordan Kazakhstan Kenya Korea Kuwait Latvia Lebanon Libya "
        "Lithuania Luxembourg Malaysia Mali Malta Mexico Moldova Mongolia Morocco Mozambique Myanmar Nepal "
        "Netherlands Nigeria Norway Pakistan Panama Paraguay Peru Philippines Poland Portugal Qatar Romania Russia "
        "Rwanda Scotland Senegal Serbia Singapore Slovakia Slovenia Somalia Spain Sudan Sweden Switzerland Syria "
        "Taiwan Tanzania Thailand Tunisia Turkey Uganda Ukraine Uruguay Uzbekistan Venezuela Vietnam Wales Yemen "
        "Zambia Zimbabwe England Britain Deutschland Frankreich España Italia"
    ),
    "United States",
    "United States of America",
    "United Kingdom",
    "South Africa",
    "South Korea",
    "North Korea",
    "New Zealand",
    "Saudi Arabia",
    "United Arab Emirates",
    "Czech Republic",
    "Costa Rica",
    "Sri Lanka",
    "USA",
    "UK",
    "UAE",
)
CITIES = (
    *words(
        "London Paris Berlin Madrid Rome Lisbon Vienna Prague Warsaw Budapest Athens Dublin Amsterdam Brussels "
        "Copenhagen Stockholm Oslo Helsinki Zurich Geneva Munich Hamburg Frankfurt Cologne Milan Naples Barcelona "
        "Seville Valencia Lyon Marseille Porto Istanbul Moscow Kyiv Kiev Cairo Lagos Nairobi Johannesburg Dubai "
        "Mumbai Delhi Bangalore Bengaluru Chennai Kolkata Karachi Beijing Shanghai Shenzhen Tokyo Osaka Kyoto Seoul "
        "Singapore Bangkok Jakarta Manila Sydney Melbourne Toronto Vancouver Montreal Chicago Boston Seattle Houston "
        "Dallas Austin Denver Atlanta Miami Phoenix Philadelphia Detroit Washington Baltimore Portland Ottawa Lima "
        "Bogotá Santiago Caracas Havana Edinburgh Manchester Liverpool Birmingham Glasgow Oxford Cambridge Hanoi "
        "Tehran Baghdad Riyadh Doha Tel Aviv Jerusalem Beirut Ankara Dresden Stuttgart Düsseldorf Leipzig Florence "
        "Venice Turin"
    ),
    "New York",
    "New York City",
    "Los Angeles",
    "San Francisco",
    "San Diego",
    "San Jose",
    "Las Vegas",
    "New Delhi",
    "Hong Kong",
    "Mexico City",
    "Rio de Janeiro",
    "São Paulo",
    "Buenos Aires",
    "Cape Town",
    "Kuala Lumpur",
    "Tel Aviv",
)
REGIONS = (
    *words(
        "Africa Asia Europe Antarctica Oceania Bavaria California Texas Florida Ontario Quebec Alaska Hawaii "
        "Oregon Nevada Arizona Virginia Massachusetts Ohio Michigan Illinois Catalonia Tuscany Siberia Scandinavia"
    ),
    "North America",
    "South America",
    "Latin America",
    "Middle East",
    "Southeast Asia",
    "Silicon Valley",
)

#: Words that start an EVENT when followed by a capitalised name, or end one after it.
EVENT_WORDS = (
    "Conference",
    "Summit",
    "Festival",
    "Olympics",
    "Olympic Games",
    "World Cup",
    "Championship",
    "Championships",
    "Expo",
    "Fair",
    "Marathon",
    "Grand Prix",
    "Awards",
    "Election",
    "War",
)
#: Words before a quoted name of a creative work (Comprehend's TITLE: books, films, songs, ...).
WORK_WORDS = (
    "book",
    "novel",
    "film",
    "movie",
    "song",
    "album",
    "series",
    "show",
    "play",
    "poem",
    "painting",
    "opera",
    "game",
    "paper",
    "article",
)
