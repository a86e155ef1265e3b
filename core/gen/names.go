package gen

// The vocabulary of the generated people: common German given names and
// family names (some with umlauts and ß, which e-mail addresses
// transliterate), cities with their postal code ranges and area codes,
// streets, and made-up mail providers. The provider domains are invented;
// none is a reserved example domain, which identity would treat as a
// placeholder.

var femaleNames = []string{
	"Anna", "Maria", "Ursula", "Monika", "Petra", "Sabine", "Renate", "Helga", "Karin", "Brigitte",
	"Ingrid", "Elke", "Susanne", "Claudia", "Andrea", "Birgit", "Gabriele", "Stefanie", "Nicole", "Julia",
	"Katharina", "Sarah", "Laura", "Lena", "Lea", "Hannah", "Sophie", "Marie", "Emma", "Mia",
	"Jana", "Jessica", "Christina", "Melanie", "Sandra", "Tanja", "Nadine", "Käthe", "Jördis", "Anke",
}

var maleNames = []string{
	"Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Günter", "Stefan", "Christian",
	"Uwe", "Werner", "Horst", "Frank", "Dieter", "Manfred", "Bernd", "Ralf", "Jörg", "Matthias",
	"Alexander", "Markus", "Martin", "Tobias", "Jan", "Lukas", "Felix", "Jonas", "Leon", "Paul",
	"Maximilian", "Florian", "Daniel", "Sebastian", "Björn", "Sören", "Hans", "Karl", "Heinz", "Sven",
}

var lastNames = []string{
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
	"Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
	"Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
	"Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
	"Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
	"Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
	"Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
}

// city is a city with its postal codes (first, count) and its area code
// without the trunk 0, and how many digits its subscriber numbers have.
type city struct {
	name, state       string
	zipFrom, zipCount int
	area              string
	subscriber        int
}

var cities = []city{
	{"Berlin", "BE", 10115, 4000, "30", 8},
	{"Hamburg", "HH", 20095, 2500, "40", 8},
	{"München", "BY", 80331, 1600, "89", 8},
	{"Köln", "NW", 50667, 500, "221", 7},
	{"Frankfurt am Main", "HE", 60306, 300, "69", 8},
	{"Stuttgart", "BW", 70173, 400, "711", 7},
	{"Düsseldorf", "NW", 40210, 400, "211", 7},
	{"Leipzig", "SN", 4103, 260, "341", 7},
	{"Dresden", "SN", 1067, 260, "351", 7},
	{"Hannover", "NI", 30159, 500, "511", 7},
	{"Nürnberg", "BY", 90402, 90, "911", 7},
	{"Bremen", "HB", 28195, 570, "421", 7},
	{"Essen", "NW", 45127, 230, "201", 7},
	{"Dortmund", "NW", 44135, 250, "231", 7},
	{"Freiburg im Breisgau", "BW", 79098, 20, "761", 7},
	{"Münster", "NW", 48143, 24, "251", 6},
	{"Kiel", "SH", 24103, 56, "431", 7},
	{"Augsburg", "BY", 86150, 49, "821", 7},
	{"Rostock", "MV", 18055, 92, "381", 7},
	{"Mainz", "RP", 55116, 14, "6131", 6},
}

var streets = []string{
	"Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Lindenstraße",
	"Birkenweg", "Am Markt", "Kirchstraße", "Waldstraße", "Ringstraße", "Goethestraße", "Schillerstraße",
	"Mozartstraße", "Wiesenweg", "Rosenweg", "Friedhofstraße", "Mühlenweg", "Königsallee", "Lessingstraße",
}

var providers = []string{
	"mailhafen.de", "postfuchs.de", "netzbrief.de", "briefwerk.de", "elbpost.de",
	"rheinmail.de", "kiezmail.de", "alpenpost.de", "webkiste.de", "funkfach.de",
}

// mobilePrefixes are German mobile network prefixes (without the trunk 0)
// and the number of digits that follow them.
var mobilePrefixes = []struct {
	prefix string
	digits int
}{
	{"151", 8}, {"152", 8}, {"160", 7}, {"170", 7}, {"171", 7}, {"172", 7},
	{"175", 7}, {"176", 8}, {"177", 8}, {"178", 8}, {"179", 8},
}

var firmWords = []string{
	"Logistik", "Bau", "Consulting", "Elektro", "Immobilien", "Software", "Druck", "Metallbau",
	"Gartenbau", "Steuerberatung", "Medien", "Reisen", "Handel", "Optik", "Catering",
}

var firmForms = []string{"GmbH", "GmbH & Co. KG", "KG", "AG", "e.K."}

var products = []struct {
	name, sku string
	cents     int
}{
	{"Espresso Bohnen 1 kg", "ESP-1000", 2490}, {"Filterkaffee Hausmischung 500 g", "FIL-0500", 1190},
	{"Handfilter Porzellan", "HF-101", 2900}, {"Milchaufschäumer", "MA-220", 4990},
	{"Kaffeemühle Keramik", "KM-330", 5990}, {"Teeprobe Schwarztee", "TEE-010", 690},
	{"Geschenkbox Röstung", "GB-777", 3450}, {"Entkalker 3er Pack", "ENT-003", 990},
}

var ticketSubjects = []string{
	"Wo bleibt meine Bestellung?", "Rücksendung einer Lieferung", "Frage zur Rechnung",
	"Artikel beschädigt angekommen", "Adressänderung", "Gutschein funktioniert nicht",
	"Lieferzeit nach Österreich", "Falscher Artikel geliefert", "Konto löschen", "Rückruf erbeten",
}

var mailSubjects = []string{
	"Frage zu meiner Bestellung", "Lieferung noch nicht da", "Rechnung bitte per Mail", "Umtausch Größe",
	"Danke für die schnelle Lieferung!", "Newsletter abbestellen", "Gewährleistung Mühle", "Anfrage Großbestellung",
}
