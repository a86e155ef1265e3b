package normalize

// iso3166 lists every ISO 3166-1 country: alpha-2, alpha-3, English
// short name.
const iso3166 = `AD AND Andorra
AE ARE United Arab Emirates
AF AFG Afghanistan
AG ATG Antigua and Barbuda
AI AIA Anguilla
AL ALB Albania
AM ARM Armenia
AO AGO Angola
AQ ATA Antarctica
AR ARG Argentina
AS ASM American Samoa
AT AUT Austria
AU AUS Australia
AW ABW Aruba
AX ALA Åland Islands
AZ AZE Azerbaijan
BA BIH Bosnia and Herzegovina
BB BRB Barbados
BD BGD Bangladesh
BE BEL Belgium
BF BFA Burkina Faso
BG BGR Bulgaria
BH BHR Bahrain
BI BDI Burundi
BJ BEN Benin
BL BLM Saint Barthélemy
BM BMU Bermuda
BN BRN Brunei Darussalam
BO BOL Bolivia
BQ BES Bonaire, Sint Eustatius and Saba
BR BRA Brazil
BS BHS Bahamas
BT BTN Bhutan
BV BVT Bouvet Island
BW BWA Botswana
BY BLR Belarus
BZ BLZ Belize
CA CAN Canada
CC CCK Cocos (Keeling) Islands
CD COD Democratic Republic of the Congo
CF CAF Central African Republic
CG COG Congo
CH CHE Switzerland
CI CIV Côte d'Ivoire
CK COK Cook Islands
CL CHL Chile
CM CMR Cameroon
CN CHN China
CO COL Colombia
CR CRI Costa Rica
CU CUB Cuba
CV CPV Cabo Verde
CW CUW Curaçao
CX CXR Christmas Island
CY CYP Cyprus
CZ CZE Czechia
DE DEU Germany
DJ DJI Djibouti
DK DNK Denmark
DM DMA Dominica
DO DOM Dominican Republic
DZ DZA Algeria
EC ECU Ecuador
EE EST Estonia
EG EGY Egypt
EH ESH Western Sahara
ER ERI Eritrea
ES ESP Spain
ET ETH Ethiopia
FI FIN Finland
FJ FJI Fiji
FK FLK Falkland Islands
FM FSM Micronesia
FO FRO Faroe Islands
FR FRA France
GA GAB Gabon
GB GBR United Kingdom
GD GRD Grenada
GE GEO Georgia
GF GUF French Guiana
GG GGY Guernsey
GH GHA Ghana
GI GIB Gibraltar
GL GRL Greenland
GM GMB Gambia
GN GIN Guinea
GP GLP Guadeloupe
GQ GNQ Equatorial Guinea
GR GRC Greece
GS SGS South Georgia and the South Sandwich Islands
GT GTM Guatemala
GU GUM Guam
GW GNB Guinea-Bissau
GY GUY Guyana
HK HKG Hong Kong
HM HMD Heard Island and McDonald Islands
HN HND Honduras
HR HRV Croatia
HT HTI Haiti
HU HUN Hungary
ID IDN Indonesia
IE IRL Ireland
IL ISR Israel
IM IMN Isle of Man
IN IND India
IO IOT British Indian Ocean Territory
IQ IRQ Iraq
IR IRN Iran
IS ISL Iceland
IT ITA Italy
JE JEY Jersey
JM JAM Jamaica
JO JOR Jordan
JP JPN Japan
KE KEN Kenya
KG KGZ Kyrgyzstan
KH KHM Cambodia
KI KIR Kiribati
KM COM Comoros
KN KNA Saint Kitts and Nevis
KP PRK North Korea
KR KOR South Korea
KW KWT Kuwait
KY CYM Cayman Islands
KZ KAZ Kazakhstan
LA LAO Laos
LB LBN Lebanon
LC LCA Saint Lucia
LI LIE Liechtenstein
LK LKA Sri Lanka
LR LBR Liberia
LS LSO Lesotho
LT LTU Lithuania
LU LUX Luxembourg
LV LVA Latvia
LY LBY Libya
MA MAR Morocco
MC MCO Monaco
MD MDA Moldova
ME MNE Montenegro
MF MAF Saint Martin
MG MDG Madagascar
MH MHL Marshall Islands
MK MKD North Macedonia
ML MLI Mali
MM MMR Myanmar
MN MNG Mongolia
MO MAC Macao
MP MNP Northern Mariana Islands
MQ MTQ Martinique
MR MRT Mauritania
MS MSR Montserrat
MT MLT Malta
MU MUS Mauritius
MV MDV Maldives
MW MWI Malawi
MX MEX Mexico
MY MYS Malaysia
MZ MOZ Mozambique
NA NAM Namibia
NC NCL New Caledonia
NE NER Niger
NF NFK Norfolk Island
NG NGA Nigeria
NI NIC Nicaragua
NL NLD Netherlands
NO NOR Norway
NP NPL Nepal
NR NRU Nauru
NU NIU Niue
NZ NZL New Zealand
OM OMN Oman
PA PAN Panama
PE PER Peru
PF PYF French Polynesia
PG PNG Papua New Guinea
PH PHL Philippines
PK PAK Pakistan
PL POL Poland
PM SPM Saint Pierre and Miquelon
PN PCN Pitcairn
PR PRI Puerto Rico
PS PSE Palestine
PT PRT Portugal
PW PLW Palau
PY PRY Paraguay
QA QAT Qatar
RE REU Réunion
RO ROU Romania
RS SRB Serbia
RU RUS Russia
RW RWA Rwanda
SA SAU Saudi Arabia
SB SLB Solomon Islands
SC SYC Seychelles
SD SDN Sudan
SE SWE Sweden
SG SGP Singapore
SH SHN Saint Helena, Ascension and Tristan da Cunha
SI SVN Slovenia
SJ SJM Svalbard and Jan Mayen
SK SVK Slovakia
SL SLE Sierra Leone
SM SMR San Marino
SN SEN Senegal
SO SOM Somalia
SR SUR Suriname
SS SSD South Sudan
ST STP Sao Tome and Principe
SV SLV El Salvador
SX SXM Sint Maarten
SY SYR Syria
SZ SWZ Eswatini
TC TCA Turks and Caicos Islands
TD TCD Chad
TF ATF French Southern Territories
TG TGO Togo
TH THA Thailand
TJ TJK Tajikistan
TK TKL Tokelau
TL TLS Timor-Leste
TM TKM Turkmenistan
TN TUN Tunisia
TO TON Tonga
TR TUR Türkiye
TT TTO Trinidad and Tobago
TV TUV Tuvalu
TW TWN Taiwan
TZ TZA Tanzania
UA UKR Ukraine
UG UGA Uganda
UM UMI United States Minor Outlying Islands
US USA United States
UY URY Uruguay
UZ UZB Uzbekistan
VA VAT Holy See
VC VCT Saint Vincent and the Grenadines
VE VEN Venezuela
VG VGB British Virgin Islands
VI VIR United States Virgin Islands
VN VNM Viet Nam
VU VUT Vanuatu
WF WLF Wallis and Futuna
WS WSM Samoa
YE YEM Yemen
YT MYT Mayotte
ZA ZAF South Africa
ZM ZMB Zambia
ZW ZWE Zimbabwe`

// countryAliases adds German names and common other spellings, one
// country a line: alpha-2, then names separated by ";". Diacritics, case
// and punctuation are ignored when matching, so "Oesterreich" needs a line
// but "osterreich" does not.
const countryAliases = `AE Vereinigte Arabische Emirate; UAE; Emirates
AR Argentinien
AT Österreich; Oesterreich
AU Australien
AZ Aserbaidschan
BA Bosnien und Herzegowina; Bosnia
BD Bangladesch
BE Belgien
BG Bulgarien
BN Brunei
BO Bolivien; Plurinational State of Bolivia
BR Brasilien
BW Botsuana
BY Weißrussland; Weissrussland; Belarus
CA Kanada
CD Demokratische Republik Kongo; DR Congo; DRC; Congo-Kinshasa; Congo, Democratic Republic of the
CG Republik Kongo; Republic of the Congo; Congo-Brazzaville
CH Schweiz; Suisse; Svizzera; Swiss Confederation
CI Elfenbeinküste; Ivory Coast
CL Chile
CM Kamerun
CN Volksrepublik China; People's Republic of China; PRC
CO Kolumbien
CU Kuba
CV Kap Verde; Cape Verde
CY Zypern
CZ Tschechien; Tschechische Republik; Czech Republic
DE Deutschland; Bundesrepublik Deutschland; BRD; Federal Republic of Germany
DK Dänemark; Daenemark; Danmark
DO Dominikanische Republik
DZ Algerien
EE Estland
EG Ägypten; Aegypten
ES Spanien; España
ET Äthiopien; Aethiopien
FI Finnland; Suomi
FO Färöer; Faeroeer; Faroes
FR Frankreich
GB Vereinigtes Königreich; Vereinigtes Koenigreich; Großbritannien; Grossbritannien; Great Britain; Britain; UK; U.K.; England; Scotland; Schottland; Wales; Northern Ireland; Nordirland; United Kingdom of Great Britain and Northern Ireland
GE Georgien
GL Grönland; Groenland
GR Griechenland; Hellas
HK Hongkong
HR Kroatien; Hrvatska
HU Ungarn
ID Indonesien
IE Irland; Republic of Ireland; Éire
IN Indien
IQ Irak
IR Iran, Islamic Republic of; Persia
IS Island
IT Italien; Italia
JM Jamaika
JO Jordanien
KE Kenia
KG Kirgisistan; Kyrgyz Republic
KH Kambodscha
KP Nordkorea; Democratic People's Republic of Korea; DPRK
KR Südkorea; Suedkorea; Korea; Republic of Korea; Korea, Republic of
LA Lao People's Democratic Republic
LB Libanon
LT Litauen
LU Luxemburg
LV Lettland
LY Libyen
MA Marokko
MD Moldau; Republik Moldau; Moldova, Republic of; Republic of Moldova
MK Nordmazedonien; Mazedonien; Macedonia
MM Burma
MN Mongolei
MO Macau
MX Mexiko
MZ Mosambik
NL Niederlande; Holland; Nederland; The Netherlands
NO Norwegen; Norge
NZ Neuseeland
PH Philippinen
PL Polen; Polska
PS Palästina; Palaestina; State of Palestine; Palestine, State of
RO Rumänien; Rumaenien
RS Serbien
RU Russland; Russian Federation
SA Saudi-Arabien
SE Schweden; Sverige
SG Singapur
SI Slowenien
SK Slowakei; Slovak Republic
SY Syrien; Syrian Arab Republic
SZ Swaziland
TJ Tadschikistan
TL East Timor; Osttimor
TN Tunesien
TR Türkei; Tuerkei; Turkey
TW Taiwan, Province of China; Republic of China
TZ Tansania; United Republic of Tanzania; Tanzania, United Republic of
UA Ukraine
US Vereinigte Staaten; Vereinigte Staaten von Amerika; United States of America; U.S.A.; U.S.; America; Amerika
UZ Usbekistan
VA Vatikanstadt; Vatikan; Vatican; Vatican City
VE Bolivarian Republic of Venezuela
VN Vietnam
YE Jemen
ZA Südafrika; Suedafrika
ZM Sambia
ZW Simbabwe`
