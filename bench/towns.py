"""Town centres and categories shared by the benchmark generators."""
import math
import random

# (town, latitude, longitude, weight): town centres, weighted roughly by size.
TOWNS = [
    ("London", 51.5074, -0.1278, 12), ("Birmingham", 52.4862, -1.8904, 5), ("Manchester", 53.4808, -2.2426, 4),
    ("Leeds", 53.8008, -1.5491, 4), ("Sheffield", 53.3811, -1.4701, 3), ("Bristol", 51.4545, -2.5879, 3),
    ("Liverpool", 53.4084, -2.9916, 3), ("Newcastle", 54.9783, -1.6178, 2), ("Nottingham", 52.9548, -1.1581, 2),
    ("Leicester", 52.6369, -1.1398, 2), ("Coventry", 52.4068, -1.5197, 2), ("Bradford", 53.7960, -1.7594, 2),
    ("Hull", 53.7676, -0.3274, 2), ("Plymouth", 50.3755, -4.1427, 2), ("Stoke", 53.0027, -2.1794, 2),
    ("Derby", 52.9225, -1.4746, 2), ("Southampton", 50.9097, -1.4044, 2), ("Portsmouth", 50.8198, -1.0880, 2),
    ("Norwich", 52.6309, 1.2974, 1), ("York", 53.9600, -1.0873, 1), ("Exeter", 50.7184, -3.5339, 1),
    ("Sale", 53.4246, -2.3227, 1), ("Stretford", 53.4466, -2.3086, 1), ("Altrincham", 53.3870, -2.3494, 1),
    ("Preston", 53.7632, -2.7031, 1), ("Blackpool", 53.8175, -3.0357, 1), ("Reading", 51.4543, -0.9781, 1),
    ("Oxford", 51.7520, -1.2577, 1), ("Cambridge", 52.2053, 0.1218, 1), ("Ipswich", 52.0567, 1.1482, 1),
    ("Brighton", 50.8225, -0.1372, 1), ("Bournemouth", 50.7192, -1.8808, 1), ("Swindon", 51.5558, -1.7797, 1),
    ("Gloucester", 51.8642, -2.2382, 1), ("Lincoln", 53.2307, -0.5406, 1), ("Carlisle", 54.8925, -2.9329, 1),
    ("Sunderland", 54.9069, -1.3838, 1), ("Middlesbrough", 54.5742, -1.2350, 1), ("Wolverhampton", 52.5862, -2.1288, 1),
    ("Milton Keynes", 52.0406, -0.7594, 1),
]
CATEGORIES = [("walking-groups", "social-activities"), ("lunch-clubs", "social-activities"),
              ("arts-and-crafts", "social-activities"), ("befriending", "support-groups"),
              ("carers-support", "support-groups"), ("bereavement-support", "support-groups"),
              ("debt-advice", "money-and-practical"), ("food-support", "money-and-practical"),
              ("mental-wellbeing", "wellbeing"), ("exercise", "wellbeing")]

# Where services (and the people searching) are: a town's own spread grows with its
# size, so its density stays that of a town (London ~10 km, a weight-1 town ~3 km);
# the rest is in the smaller places around each town. At 1M services that is about
# 110 services per km² at a town centre — ~8,000 within 5 km — which is what England's
# urban population density would give one service per ~55 residents.
URBAN_SHARE = 0.55
SATELLITES = 12


def _satellites(town):
    """Fixed small places 8–40 km around a town (same for every run)."""
    rng = random.Random(town[0])
    out = []
    for _ in range(SATELLITES):
        bearing, km = rng.uniform(0, 2 * math.pi), rng.uniform(8, 40)
        out.append((town[1] + km * math.cos(bearing) / 111.2,
                    town[2] + km * math.sin(bearing) / (111.2 * math.cos(math.radians(town[1])))))
    return out


def place(rng, town):
    """(latitude, longitude) of a service or a searcher belonging to `town`."""
    if rng.random() < URBAN_SHARE:
        centre, km = (town[1], town[2]), 2.9 * math.sqrt(town[3])
    else:
        centre, km = rng.choice(_satellites(town)), 1.2
    lat = centre[0] + rng.gauss(0, km / 111.2)
    lon = centre[1] + rng.gauss(0, km / (111.2 * math.cos(math.radians(centre[0]))))
    return lat, lon


def spread_degrees(town):
    """(latitude, longitude) half-widths of a box over a town's urban spread (2σ)."""
    km = 2 * 2.9 * math.sqrt(town[3])
    return km / 111.2, km / (111.2 * math.cos(math.radians(town[1])))
