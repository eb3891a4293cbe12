/**
 * Vocabularies of the uservisits generator, taken from the Big Data Benchmark's published `tiny`
 * data (HiBench output): user agents with their observed weights, country/language pairs with
 * their weights, and the 1,000 search words. Weights are row counts out of 10,000.
 */

/** Real user agents and how many of 10,000 rows carry each. */
export const USER_AGENTS: readonly (readonly [string, number])[] = [
  ["Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", 1315],
  ["Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.2)", 850],
  ["Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; .NET CLR 1.1.4322)", 811],
  ["Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)", 742],
  ["Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)", 707],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.2) AppleWebKit/525.13 (KHTML like Gecko) Chrome/xxx", 563],
  ["Mozilla/5.0 (iPhone; U; CPU like Mac OS X)AppleWebKit/420.1 (KHTML like Gecko) Version/3.0 Mobile/4A93Safari/419.3", 405],
  ["Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", 375],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.2)AppleWebKit/525.13 (KHTML like Gecko) Version/3.1Safari/525.13", 333],
  ["Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)", 283],
  ["Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)", 166],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.2) AppleWebKit/525.13 (KHTML like Gecko) Chrome/0.2.149.27 Safari/525.13", 127],
  ["Navigator/9.0.0.6", 91],
  ["Netscape 4.8 (Windows Vista): Mozilla/4.8 (Windows NT 6.0; U)", 84],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.2)Gecko/2008070208 Firefox/3.0.1", 77],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.1)Gecko/20070309 Firefox/2.0.0.3", 76],
  ["Mozilla/4.0 (compatible; MSIE 5.5; Windows 98; Win 9x 4.90)", 62],
  ["Opera/8.0 (Macintosh; PPC Mac OS X; U; en)", 56],
  ["iPhone 3.0: Mozilla/5.0 (iPhone; U; CPU iPhone OS 3_0 like Mac OS X; en-us) AppleWebKit/528.18 (KHTML like Gecko) Version/4.0 Mobile/7A341 Safari/528.16", 51],
  ["Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/125.2 (KHTML like Gecko) Safari/125.8", 51],
  ["Mozilla/5.0 (Windows; U; Windows NT 5.1)Gecko/20070803 Firefox/1.5.0.12", 48],
  ["Opera 7.51 (Win XP): Opera/7.51 (Windows NT 5.1; U)", 41],
  ["Opera 8.0 (Win 2000): Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0; en) Opera 8.0", 39],
  ["Netscape 4.8 ( Win XP): Mozilla/4.8 (Windows NT 5.1; U)", 38],
  ["Netscape 7.1 (Win 98): Mozilla/5.0 (Windows; U; Win98; en-US; rv:1.4) Gecko Netscape/7.1 (ax)", 32],
  ["Opera 7.5 (Win XP): Opera/7.50 (Windows XP; U)", 30],
  ["Opera 9.2 (Windows Vista): Opera/9.20 (Windows NT 6.0; U; en)", 30],
  ["Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/125.2 (KHTML like Gecko) Safari/85.8", 25],
  ["Opera 7.5 (Win ME): Opera/7.50 (Windows ME; U)", 22],
  ["Mozilla/5.0 (Macintosh; PPC Mac OS X; U; en)Opera 8.0", 19],
  ["Netscape 2.02 (Win 95): Mozilla/2.02E (Win95; U)", 17],
  ["Opera/9.27 (Windows NT 5.2; U; zh-cn)", 10],
  ["Netscape 3.01 gold (Win 95): Mozilla/3.01Gold (Win95; I)", 9],
];

/** Rows (of 10,000) whose user agent is a random `Name/d.d` string, as HiBench's list has. */
export const RANDOM_USER_AGENT_WEIGHT = 2415;

/** How many distinct random `Name/d.d` user agents to make. */
export const RANDOM_USER_AGENTS = 486;

/** `countryCode,languageCode` pairs and their weights. */
export const COUNTRY_LANGUAGE = parseWeighted(
  "ALB,ALB-SQ:97 ARE,ARE-AR:78 ARG,ARG-ES:95 AUS,AUS-EN:97 AUT,AUT-DE:98 BEL,BEL-FR:83 " +
  "BEL,BEL-NL:80 BGR,BGR-BG:86 BHR,BHR-AR:83 BIH,BIH-SR:83 BLR,BLR-BE:84 BOL,BOL-ES:86 " +
  "BRA,BRA-PT:88 CAN,CAN-EN:97 CAN,CAN-FR:80 CHE,CHE-DE:100 CHE,CHE-FR:95 CHE,CHE-IT:95 " +
  "CHL,CHL-ES:87 CHN,CHN-ZH:95 COL,COL-ES:89 CRI,CRI-ES:97 CYP,CYP-EL:103 CZE,CZE-CS:95 " +
  "DEU,DEU-DE:87 DNK,DNK-DA:92 DOM,DOM-ES:95 DZA,DZA-AR:96 ECU,ECU-ES:88 EGY,EGY-AR:124 " +
  "ESP,ESP-CA:86 ESP,ESP-ES:96 EST,EST-ET:88 FIN,FIN-FI:98 FRA,FRA-FR:97 GBR,GBR-EN:88 " +
  "GRC,GRC-EL:92 GTM,GTM-ES:84 HKG,HKG-ZH:85 HND,HND-ES:108 HRV,HRV-HR:95 HUN,HUN-HU:90 " +
  "IDN,IDN-IN:84 IND,IND-EN:88 IND,IND-HI:80 IRL,IRL-EN:91 IRL,IRL-GA:93 IRQ,IRQ-AR:85 " +
  "ISL,ISL-IS:87 ISR,ISR-IW:77 ITA,ITA-IT:87 JOR,JOR-AR:102 JPN,JPN-JA:174 KOR,KOR-KO:101 " +
  "KWT,KWT-AR:87 LBN,LBN-AR:81 LBY,LBY-AR:89 LTU,LTU-LT:111 LUX,LUX-DE:97 LUX,LUX-FR:93 " +
  "LVA,LVA-LV:87 MAR,MAR-AR:87 MEX,MEX-ES:82 MKD,MKD-MK:89 MLT,MLT-EN:91 MLT,MLT-MT:102 " +
  "MNE,MNE-SR:97 MYS,MYS-MS:87 NIC,NIC-ES:95 NLD,NLD-NL:104 NOR,NOR-NO:196 NZL,NZL-EN:97 " +
  "OMN,OMN-AR:96 PAN,PAN-ES:96 PER,PER-ES:93 PHL,PHL-EN:82 POL,POL-PL:82 PRI,PRI-ES:94 " +
  "PRT,PRT-PT:93 PRY,PRY-ES:94 QAT,QAT-AR:82 ROU,ROU-RO:99 RUS,RUS-RU:91 SAU,SAU-AR:95 " +
  "SCG,SCG-SR:97 SDN,SDN-AR:104 SGP,SGP-EN:76 SGP,SGP-ZH:102 SLV,SLV-ES:87 SRB,SRB-SR:92 " +
  "SVK,SVK-SK:86 SVN,SVN-SL:103 SWE,SWE-SV:92 SYR,SYR-AR:87 THA,THA-TH:208 TUN,TUN-AR:88 " +
  "TUR,TUR-TR:97 TWN,TWN-ZH:92 UKR,UKR-UK:82 URY,URY-ES:79 USA,USA-EN:99 USA,USA-ES:106 " +
  "VEN,VEN-ES:87 VNM,VNM-VI:77 YEM,YEM-AR:84 ZAF,ZAF-EN:97 ",
);

/** The search words, one per distinct value. */
export const SEARCH_WORDS: readonly string[] = (
  "seismoscopic hallmarks tetanolysin macrolecithal Assidaean overhold blackband harmonicas " +
  "oxidizes two-pole nondoctrinal mispage ammoniojarosite subtutorship gleeman rehardens " +
  "oligotrophic Crossroads inebriative hagiologically embryulcuses unshelled unassimilated " +
  "consolatory pregraded revoke gypsylike all-substantial bakli sepiostaire huffing menacement " +
  "Shortsville duckier troublesshot walkie-talkie motacilline costliness enthrone borders " +
  "intervenant blithemeat antiscientifically whizbangs quantical sabulite goody-goodyism niftily " +
  "stylion nonplusation whigged uredo-fruit Priscianist bradytely acceptably micropyrometer ARU " +
  "gilravager anabaptism pot-au-feu Shirleen meticulously geographized lugs amoebiform Mathiston " +
  "oar-footed overprominently can-wrapping scamles CNO estrangedness underissue circumradiuses " +
  "clangouring majordomo Luxembourg anthropocentric diordinal trigonodont auriculariae inducive " +
  "sandblasted Euglenida tergitic staddle Tohatchi encephalophyma mixologist rocketers mancando " +
  "hospodariat reenunciated speedwalk mF snipping Neper dithymol quileces disgarland mescaline " +
  "popovers rall. Deutschmark underdressing Aruru unweld epizoites Shoals superarrogantly " +
  "serrulateed potwaller parled goutiness Normannic pro-rate unmelodious peace-restoring " +
  "lymphomatous searchers otorhinolaryngology seedlings visaing soln tecali censured capris Lobito " +
  "bothros devastating well-rendered Adlar unsituated eagled Chimonanthus nonfimbriate interreflect " +
  "attics feracity reattiring cholecystalgia draughtsboard cack-handed contendere cross-ventilation " +
  "EPUB doucin Murjite mother-of-thousands Tarry-john Bannasch antasthmatic Michaella interestless " +
  "nonjurancy tiled acanthous usherer maravedi spondylic etagere Teutolatry norms unsuggestibility " +
  "Rubin alowe reelects magnetizations surveyors Virgie histochemistry routines A-one toadling " +
  "hospita idolify Chandra goldenrods Pro-argentinian Phyllosomata theorician witches'-besom " +
  "ultrastructural cingulectomies pinkily pyronines immunogenetically brawl Madhva antiexporting " +
  "desm- godless uncreeping abhor Savery Treharne slowness nonoccult tormenters homy mottlers " +
  "unfoxy LBJ archaicness breastpin daff crocko Meriden fractioning nuchae urbanisms mis-see " +
  "world-supporting suckstone Coccaceae fishgig ym likings senate unfamiliar cartonniers " +
  "Campbellton cabstand estuary matters saprostomous rockered soda-potash interphase sheller gunl " +
  "refurnished unpurely seasides doggerels antiphoner scoutdom Behistun daddy-longlegs toking " +
  "transcolouration Teryn thimbleman biodegrading milliamperes octastyle catsups defi demographist " +
  "subacutely disseats monospermic north-easter gynecomania chalazoin flooring twice-worn tootling " +
  "repayed cid converters sloshy licham innholder blunthead hypacusis stomachlessness all-soothing " +
  "putrefy dipththeria methyldopa smoky-blue fleshen nonconcurred piezometrical aviararies Sparhawk " +
  "Mineola Semeru Bolshevized bovinity dictions Salicaceae braising thermoscope thanehood " +
  "recataloguing disenfranchising adipose Downe Cinebar apprehensions reaped diffusional odeum " +
  "ethnoflora thievingly Gienah imposterous Pro-presbyterian hebamic ikon semiradicalness " +
  "methylated sidebands impriment pseudopregnant eardrums chancito CIO reracks Hanafi Farris " +
  "stark-drunk dramatizes acuclosure and unfrustrable tattooers communitywide disjunctions " +
  "wordlorist Blindheim embrocates grumpishness reenjoys watery-eyed utricles nunnify imperialised " +
  "selvedged calliperer stocking-foot flypaper smile-covering efl utricle wanderlust Farrington " +
  "ice-foot uncusped fidded GI'd graphalloy aga orthognathy Lysistrata unexplicitly impeller " +
  "Manouch dragading mesostyle six-shooter L'vov Redstone episcia summerish encanker serofibrinous " +
  "duringly conciliable laeotropic antipart subattorneyship seemless skiings erasability sand-cast " +
  "piaffed trunnions subglobosity injustices bristlelike geometrising champagne hyaline Alfy " +
  "ensigning Sabsay multivalve diverticulate uncholeric slimmed moleproof propination picudilla " +
  "kinoplasm bull-roaring Japonize tysonite Lidie rigatonis potcher corresp dad rhododendron " +
  "Winburne picotee phantasmagorias foalhood Aalto theatricable hartebeests outdoor debus " +
  "overcoming examinative Tolkan sexing Daltonic dereistic derided moor-hen excambion dalapon " +
  "cremor ulicon tachypneic Praha gidgee dressmakers carburised darkens doweled Bowdichia barracuda " +
  "carabaos unstone acinar boasts subgerminal unsavored nonvulcanized eddo long-line skin-devouring " +
  "reformulated monsignori sinapate preparticipation Bardeen distends hyperbarbarously Mamurius " +
  "holohedral rosolic dispending ovaritides premotion Mentes antheriform Ressler self-disapproval " +
  "serjeants psychostatic forefronts trackscout contessa kegler traumata unselfishness parascenium " +
  "burlap neology mucoserous subalate mullocky belord goiter prodialogue enamelers climatically " +
  "cartiest Dicynodontia church-garth ceil bonum ureterostoma Mycetozoa dyarchies Myliobatidae " +
  "backarrows Mantua omentitis napiform cataphora ascertainableness semi-idleness metoxazine " +
  "sulfurets venousness verdugoship unmesmeric reremmice roed Fabrianne diamb evilspeaker " +
  "Anti-aristotelian panelled snafus wingbeat wheaf-head localising formals saudi constrainable " +
  "gluteal Court monosyllabism quillajic Tougaloo countermotion blacktongue monaulos hyperlithuria " +
  "cadua resiliency exposers boatie gravamem Zoochlorella gossoon Fasciolaria parathymic gloving " +
  "self-exaltative distending inswarming choke freemartin tumultus antisociality Ulidian redistills " +
  "comptrollership koltunna troubleshoot palaeogene betattered excreta Natchez sagenesses " +
  "middleweights negrophil Snowdonia Gouldsboro hcb huscarl tufters linecaster heptarchic cassaba " +
  "schusser ectomorphy Pseudo-swedish talipomanus woundedly enclaret gloriam nonbodily didn " +
  "cathodes colostric reshowing Varangian barehead well-tilled xenodochium forhoo seventy-second " +
  "photodramaturgy misopaedist spinneret lackadaisicalness bullrings tolbooths synophthalmia " +
  "samsonian tetracolon Raybourne proctoscopes suffice forcipial OLTM Limosi physiologist " +
  "Talegallinae equivale unlexicographical gigantoblast shoeingsmith polybranchiate lining-out " +
  "Marcionism immanentistic underpopulated unframe Angrbodha Langford surfboat luxuria tax-burdened " +
  "reseeks exosmotic snafflebit revalued mycterism jestproof toolsheds surjective ferroelectrically " +
  "set-hands juries platies Lutetian multigraph HEHO wainage fastingly unsaved banjuke Aluco " +
  "Sardoin encephalology parenchym fillagree quasi-political lacewoman unegoist Buckleya " +
  "silk-stocking biune oxalo- decalcomaniac greyest disorientates pistler euosmite crosshatching " +
  "accorded hypostrophe nephropyosis Guin. Culpeper cundums tacmahack Trish semitic nF rottenstone " +
  "flightful lampful Pergamos Ramaism Agenor defusing pignolia sneak-up britzska Leroy avowal " +
  "Cephalopoda Idalina chavicine diversifies blockmaker sexarticulate fair-trading perihepatic " +
  "pasch-egg van friandise unbestarred Padus publically tricksical gastroesophagostomy catspaw " +
  "unnotional pertains Almada lengthening mermaid theater-craft pollard restorals long-resounding " +
  "Rawden darners colonizable agnominal vesiculiform nonperversely angiosymphysis reinforms Erkan " +
  "aluminyl photofloodlamp Dorcus dioptral excretive decision-making uther pathomorphologic " +
  "erythroblastosis Liederkranz manicurist piquable tree-embowered apologia Strandburg grece " +
  "taxonomists cussing-out hydrosalpinx flat-nosed dandle visualizable sheltered inartistic " +
  "anaglyptograph Mimosaceae unmanufactured eyednesses narrators pterygomaxillary tetraster " +
  "desiccator banig godfathers dinted druidry sapphire drinking metageometry mid-on SNOBOL " +
  "twin-blossomed plushy underdrainage criosphinx calanid FCIC fitnesses Teutonising cryptodire " +
  "Elnore reaccept many-sided self-doubt unwaking distinctor metathesize ergotisms wullawins " +
  "stenterer trasformism miraculous chronogrammatical nonbromidic tootsy doiled inselberge " +
  "sheath-winged Babesia tarlatans phrenic tikoloshe discommoned Larned Umbro-roman memoranda " +
  "beckoning kindergartening heathendom silver-shining rhizophilous glood Clementon AAAA siderites " +
  "untenibleness german pithecology leefange lour fellies clop-clop many-wintered cohosting " +
  "cloddishly decalage savagize woodhole veinage Lophiodontidae Hoban vindicatress fchar " +
  "sycophantize bkbndr skilligalee petty-bag hardnose thoracalgia Gij fieldstrip word-book AGR " +
  "Allys paranotions preparliamentary gehlenite prenotifications sarcopoietic clonked sulphids " +
  "turners PPE nephradenoma inoculant impinging germiest thigmotactic nonremissible prostyle " +
  "beetfly hackneying stargazes Fuls juliet photosynthesizes anti-English Megarhyssa plasmodesm " +
  "Portugalism post-Tertiary languaged Adalard maiolicas Krall underthrust bitterbrush unagreeing " +
  "preignition exploitative ripicolous wapitis fruitwoman outlaughed Verden nonic hairpin " +
  "dactylitic lingism supramarine countermands Atsugi monkflower voidness Rokadur sowbread " +
  "inhospitableness all-triumphing vibratory flowing-robed festooneries fowage faint-glimmering " +
  "unportuous nonpersecutory seediness torsibility invigilator aisle VAP uncatastrophically Bihai " +
  "radiato- dorter heredosyphilis CTTN wildishly yellow-feathered dimensionally -el depurating " +
  "diplospondylic forbiddenly Vicco attributive invariant weak-kneedness twice-consenting " +
  "protanopic meriquinone drippiest Acroceraunian pregracile hyperacousia Maritime waggoner sebundy " +
  "megilphs magmas neofetus trochiluli Haemulidae Meadville ichthyophagian sanguinarily " +
  "myriotrichiaceous UNMA semilogical SQA nervelessness Weatherford decarboxylate monosomy " +
  "synthesizes Desi sixteen rooster bekissed bargh interpole aircrewman cartonnage Tortulaceae " +
  "disintegrators repented mezo biauricular effusions cosignitary inflationists unsupervisory " +
  "devests Brachyoura Dowell subnotation Siberian clitellum wob Biamonte fair-haired conjunctiva " +
  "Germaun micturate rads scenic baby-doll tersenesses plantagineous vimana Aram Dougherty " +
  "inenucleable Romanisation myopia maltworm sparklessly Umbro-oscan turnkey perfusion " +
  "supermechanical Carnarvonshire Nacionalista Pimpla phialine meagernesses desipient sporophyllary " +
  "osteotomy mormaor Aphelandra Trional pseudomiraculous margarodite alethopteis one-eyedness Hindu " +
  "iridescent Quakerization Gloriane SWAS arete uninsistent stell Massapequa tangence straitsman " +
  "Baha'ullah stomatotomy judiciality inirritably chilblained unquilted Swart "
)
  .trim()
  .split(" ");

function parseWeighted(text: string): readonly (readonly [string, number])[] {
  return text
    .trim()
    .split(" ")
    .map((item) => {
      const colon = item.lastIndexOf(":");
      return [item.slice(0, colon), Number(item.slice(colon + 1))] as const;
    });
}
