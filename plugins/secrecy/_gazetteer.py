"""Name gazetteers for the secrecy detector (lower-case, accents stripped).

Derived at development time from the French-language person providers of Faker
(MIT licence: fr_FR, fr_BE, fr_CH, fr_CA, fr_QC) plus hand-written additions
(older generations, regional and immigrant first names), minus names that are also
common French words (Rose, Iris, Flore...). Static data: nothing is downloaded.
"""


def _split(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES: frozenset[str] = _split(
    """
aaron abdelkader abdellah abdoulaye achille adam adelaide adele adeline adem adil adrian adriana
adriano adrien adrienne agathe agnes ahmed ahmet aicha alain alan albert alberte aldo alessandro
alessia alessio alex alexander alexandra alexandre alexandria alexandrie alexia alexis alfonso
alfred ali alice alicia aline alison alisson alizee allan alphonse alyssa amandine amaury amelia
amelie amina aminata amine ana anaelle anais anas anastasia anastasie andre andrea andreas
andree andrew andy angela angele angelina angelique angelo anissa anita anna annabelle anne
anne-catherine anne-francoise anne-laure anne-marie anne-sophie annette annick annie anny anouk
anthony antoine antoinette antonella antonia antonietta antonin antonina antonino antonio antony
apolline ariane arlette armand armelle arnaud arnaude arno arthur assia astrid aude audrey
auguste augustin aurelie aurelien awa axel axelle aymeric ayoub baptiste barbara basile bastien
baudouin beatrice benedicte benjamin benoit berengere berenice bernadette bernard berthe
bertrand betty bilal boris brahim brandon brian brice brieuc brigitte bruno bryan calogero
camille carine carla carlo carlos carmela carmelo carmen carole caroline cassandra caterina
catherine cathy cecile cedric celestin celestine celia celina celine chantal charles charlie
charline charlotte charly chiara chloe christel christelle christian christiane christianne
christina christine christophe christopher cindy claire clara clarisse claude claudette claudia
claudine claudio claudy clement clementine cloe clotilde colette coline come concetta constantin
coralie coraline corentin corine corinne cristina cynthia cyril cyrille daisy dalila damien
daniel daniela daniele danielle danny daphne dario david deborah delphine denis denise diana
diane didier diego dimitri dirk djamel domenico dominique donovan dorian dorothee dylan eddy
edgard edith edmond edouard elea elena eleonore eliane elias elie elina eline eliot eliott elisa
elisabeth elise elliot elodie eloise elsa emeline emelyne emile emilia emilie emilien emilio
emma emmanuel emmanuelle enora enzo eric erik erika ernest erwan erwin esteban estelle esther
ethan etienne eugene eugenie eulalie eva evan eveline evelyne ezio fabian fabien fabienne fabio
fabrice fabrizio fanny farid farida fatiha fatima fatma fatou fatoumata felix fernand fernanda
fernande fernando filippo fiona flavie flavio flora florence florent florian floriane florine
franca francesca francesco francine francis francisco franck franco francois francois-xavier
francoise frank franz freddy frederic frederique gabin gabriel gabrielle gael gaelle gaetan
gaetano gary gaston gauthier genevieve geoffrey geoffroy georges georgette gerald geraldine
gerard germain germaine ghislain ghislaine giacomo gianni gilbert gilberte gilles ginette gino
giovanna giovanni gisele giulia giuliano giuseppa giuseppe giuseppina gladys grazia graziella
gregoire gregory guido guillaume gustave guy gwenael gwenaelle gwendoline gwladys habiba hadrien
hakim hamid hamza harry hasan hassan hector helena helene heloise henri henriette henry herve
hicham hippolyte honore hortense houria hubert hugo hugues huguette ibrahim ibrahima igor ilias
ilona ilyas imane inaya ines ingrid irene irina isaac isabelle isaline ismael ismail ivan jacky
jacqueline jacques james jamila janine jason jean jean-baptiste jean-charles jean-christophe
jean-claude jean-francois jean-jacques jean-louis jean-luc jean-marc jean-marie jean-michel
jean-noel jean-paul jean-philippe jean-pierre jean-pol jean-yves jeanine jeanne jeannette
jeannine jennifer jenny jeremie jeremy jerome jessica jessy jimmy joachim joanna joaquim
jocelyne joel joelle joffrey johan johann johanna john johnny jonas jonathan jordan joris jose
josee joseph josephine josette joshua josiane josianne juan judith jules julia julian julie
julien juliette justine kadiatou kamel karim karima karin karine karl kathleen kathy katia katty
kelly kenny kenza kenzo kevin khadija khaled khalid killian kimberley kylian kyllian laetitia
laora lara larbi laura laure laurence laurent laurie laurine lea leana leandro leila lena lenny
leo leon leonard leonardo leone leonie leopold leslie liam lila liliane lilou linda lindsay line
lionel lisa lise lisette livia livio loan logan loic lois lola loredana lorena lorenzo loris
lorraine louane louis louis-marie louisa louise louka louna luc luca lucas luce lucette lucia
luciano lucie lucien lucienne lucile lucy ludivine ludovic luigi luis luka lukas luna lyam lydia
lydie madeleine madison mael maelle maelys maeva magali maggie maite malik malika mamadou mandy
manon manuel manuela marc marc-antoine marcel marcelle marco margaret margaud margaux margot
marguerite maria mariam mariama marianne marie marie-ange marie-anne marie-christine marie-
claire marie-claude marie-france marie-francoise marie-helene marie-jeanne marie-jose marie-
laure marie-line marie-louise marie-madeleine marie-noelle marie-odile marie-paule marie-pierre
marie-rose marie-therese marielle mariette marina marine mario marion marius marjorie marlene
marthe martial martin martine marvin marylene maryline maryse massimo mateo matheo mathias
mathieu mathilde mathis mathys matteo matthew matthias matthieu mattia maud maude maureen
maurice mauricette maurine maurizio maxence maxim maxime maximilien maya megane mehdi mehmet
melanie melina melissa melodie michael michel michele micheline michelle mickael miguel mike
mila milan milo mireille mirko mohamed mohammad mohammed mohand monika monique morgan morgane
mourad moussa muriel murielle mustafa mustapha mya mylene myriam nabil nadege nadia nadine nael
naim nancy naomi nassim natacha nath nathalie nathan nathanael nell nelly nicola nicolas nicole
nina noa noah noam noe noella noelle noemi noemie nolan nolwenn nora norah norbert nordine nour
nourredine odette odile olga olivia olivie olivier omar ophelie ornella oscar oumar owen pablo
paola paolo pascal pascale pascaline pasquale patrice patricia patrick patrizia paul paul-henri
paula paule paulette pauline pedro penelope perrine peter philippe philippine pierre pierre-
henri pierre-yves pietro pol priscilla quentin rabah rachel rachid rachida rafael rania raoul
raphael rayan raymond raymonde rebecca regine regis remi remy renato renaud rene renee ricardo
richard rita robert roberto rodolphe rodrigue roger roland rolande romain roman romane romeo
romuald romy ronald ronny rosa rosalia rosalie rosaria rosario rose-marie roseline roxane ruben
rudi rudy ryan sabine sabrina sacha said salah salma salome salvatore samantha sami samir samira
samuel samy sandra sandrine sandro sandy sara sarah sasha sean sebastien segolene serena serge
sergio severine seydou shana shirley silvana silvia simon simone simonne sofia sofiane soizic
solange solene soline sonia sophia sophie soraya stefan stefano stephan stephane stephanie steve
steven susan susanne suzanne sylvain sylvia sylviane sylvianne sylvie tamara tanguy tania
tatiana teo teresa thea theo theodore theophile therese thi thiago thibaud thibault thibaut
thierry thomas tiago tiffany timeo timothee timothy tiziana tiziano tommy tony tristan ugo
ulysse valentin valentina valentine valentino valerie vanessa veronique victor victoria vincenza
vincenzo vinciane virginie vito viviane walid walter wendy william willy xavier yacine yamina
yanis yann yannick yannis yasmina yasmine yassin yassine yoann yohan yolande younes youri
youssef ysaline yusuf yvan yves yvette yvon yvonne zacharie zakaria zelie zineb zoe zohra
"""
)

SURNAMES: frozenset[str] = _split(
    """
allain allard alves aubert aubry auger bailly barbier baron barthelemy baudry bazin becker begue
benard bernier berthelot bertin besnard besson bigot blanchard blanchet blin blondel blot bodin
bonneau bonnet bonnin bouchet boulay bourdon bourgeois bousquet boutin bouvet bouvier boyer
briand bruneau brunel brunet buisson carlier caron carpentier charpentier charrier chartier
chauveau chauvet chauvin chevallier chretien clerc cohen colin collet collin cordier costa coste
coulon courtois couturier da costa da silva de oliveira de sousa delahaye delannoy delattre
delaunay delmas delorme descamps deschamps devaux diallo dias diaz dijoux dos santos dubois
dufour duhamel dumas dumont dupont dupre dupuis dupuy durand duval evrard fabre faivre faure
fernandes fernandez ferrand ferreira fischer fleury fontaine foucher fouquet fournier gaillard
gallet garcia garnier gaudin gautier gillet gimenez girard giraud godard gomes gomez goncalves
gonzalez gosselin grenier grondin guerin guibert guichard guilbert guillet guillon guillot
guillou guyon guyot hamel hamon hardy hebert hernandez hoarau hoareau huet humbert imbert jacob
jacquet jacquot joly joubert jourdan klein labbe lacombe lacroix lagarde laine lambert langlois
laporte laroche launay le gall le goff le roux lebreton lebrun leclerc leclercq lecomte leconte
lecoq ledoux leduc lefebvre lefevre lefort legendre leger legros lejeune leleu lelievre lemaire
lemaitre lemoine lemonnier leroy lesage letellier leveque levy loiseau lombard lopes lopez mace
mahe maillard maillet maillot marchal marchand marechal marques martel martineau martinez
martins marty masson maury menard mendes mercier meunier meyer michaud millet monnier moreau
morel moreno morin morvan muller munoz navarro neveu nguyen noel normand ollivier pages parent
pasquier payet pelletier peltier pereira perez peron perret perrier perrin perrot petitjean
picard pichon pineau pinto pires poirier pons potier pottier poulain prevost pruvost ramos
raynaud regnier renault reynaud ribeiro riou riviere rocher rodrigues rodriguez rolland rossi
rousseau roussel rousset roux royer ruiz salmon samson sanchez sauvage schmitt schneider seguin
techer teixeira tessier texier torres toussaint traore turpin vaillant valette vallee vallet
vasseur verdier vidal voisin wagner weber weiss
"""
)
