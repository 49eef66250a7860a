// Ringtrail dashboard: the calls log (audio player, marking); every page works without it.
"use strict";
