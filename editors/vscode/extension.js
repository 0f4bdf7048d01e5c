// The Gait policy extension: starts `gaitc lsp` (the path is the setting
// `gaitpol.server.path`, default `gaitc` on PATH) for .gaitpol files.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  const config = vscode.workspace.getConfiguration('gaitpol');
  const command = config.get('server.path', 'gaitc');
  const debounceMs = config.get('server.debounceMs', 20);
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'gaitpol' }],
    initializationOptions: { debounceMs },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.gaitpol'),
    },
  };
  // Settings are read at activation: reload the window after changing them.
  client = new LanguageClient('gaitpol', 'Gait policy (gaitc lsp)', serverOptions, clientOptions);
  await client.start();
}

async function deactivate() {
  if (client) {
    await client.stop();
    client = undefined;
  }
}

module.exports = { activate, deactivate };
