/** Exit statuses of plotwire commands that a supervisor (systemd) acts on. */

/** Every stream token was refused (404, 403): a restart would not help. */
export const EXIT_NO_TOKEN = 3;
