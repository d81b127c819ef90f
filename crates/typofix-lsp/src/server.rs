//! The protocol: the handshake (position encoding, settings, workspace
//! root), document notifications handed to the [`checker`], and the two
//! requests a user acts through: code actions and "add to dictionary".

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
    Notification as _, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, ExecuteCommand, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, Command, ExecuteCommandOptions, ExecuteCommandParams,
    InitializeParams, MessageType, PositionEncodingKind, ServerCapabilities, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, WorkspaceEdit,
};
use serde_json::{json, Value};
use typofix::text::Unit;
use typofix::{Corrector, FixOptions};

use crate::checker::{self, Found, Job, Published};
use crate::document::Document;
use crate::settings::Settings;

/// The command behind "add to dictionary"; its argument is the word.
pub const ADD_TO_DICTIONARY: &str = "typofix.addToDictionary";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("language server protocol: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),
    #[error("the connection to the editor failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the editor's initialize request does not parse: {0}")]
    Initialize(serde_json::Error),
}

/// Serves over stdin and stdout until the client shuts the server down.
pub fn run_stdio(corrector: Corrector) -> Result<(), Error> {
    let (connection, io) = Connection::stdio();
    run(&connection, Arc::new(corrector))?;
    drop(connection);
    io.join()?;
    Ok(())
}

/// Serves over `connection` until the client shuts the server down.
pub fn run(connection: &Connection, corrector: Arc<Corrector>) -> Result<(), Error> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).map_err(Error::Initialize)?;
    let utf8 = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|kinds| kinds.contains(&PositionEncodingKind::UTF8));
    let (unit, encoding) = if utf8 {
        (Unit::Byte, PositionEncodingKind::UTF8)
    } else {
        (Unit::Utf16, PositionEncodingKind::UTF16)
    };
    let capabilities = ServerCapabilities {
        position_encoding: Some(encoding),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![ADD_TO_DICTIONARY.to_string()],
            ..ExecuteCommandOptions::default()
        }),
        ..ServerCapabilities::default()
    };
    connection.initialize_finish(
        id,
        json!({
            "capabilities": capabilities,
            "serverInfo": { "name": "typofix", "version": env!("CARGO_PKG_VERSION") },
        }),
    )?;

    let published = Published::default();
    let (jobs, checker) = checker::start(
        corrector,
        unit,
        connection.sender.clone(),
        published.clone(),
    );
    let mut server = Server {
        connection,
        jobs,
        published,
        root: workspace_root(&params),
        settings: Settings::default(),
        languages: HashMap::new(),
    };
    let initial = params.initialization_options.unwrap_or(Value::Null);
    server.configure(initial);
    let result = server.serve();
    drop(server); // closes the checker's queue
    let _ = checker.join();
    result
}

struct Server<'a> {
    connection: &'a Connection,
    jobs: crossbeam_channel::Sender<Job>,
    published: Published,
    /// The first workspace folder, where the allow-list lives.
    root: Option<PathBuf>,
    settings: Settings,
    /// Each open document's language id (changes do not repeat it).
    languages: HashMap<String, String>,
}

impl Server<'_> {
    fn serve(&mut self) -> Result<(), Error> {
        for message in &self.connection.receiver {
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    let response = self.answer(request);
                    self.connection.sender.send(response.into()).ok();
                }
                Message::Notification(note) => self.notified(note),
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn notified(&mut self, note: Notification) {
        match note.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = note
                    .extract::<lsp_types::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                {
                    let d = p.text_document;
                    self.check(d.uri, Document::new(d.text, d.version, d.language_id));
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = note.extract::<lsp_types::DidChangeTextDocumentParams>(
                    DidChangeTextDocument::METHOD,
                ) {
                    // Full sync: the last change is the whole text.
                    let Some(change) = p.content_changes.into_iter().last() else {
                        return;
                    };
                    let uri = p.text_document.uri;
                    let language = self
                        .languages
                        .get(uri.as_str())
                        .cloned()
                        .unwrap_or_default();
                    let document = Document::new(change.text, p.text_document.version, language);
                    self.check(uri, document);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = note
                    .extract::<lsp_types::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    self.languages.remove(p.text_document.uri.as_str());
                    self.jobs.send(Job::Close(p.text_document.uri)).ok();
                }
            }
            DidChangeConfiguration::METHOD => {
                if let Ok(p) = note.extract::<lsp_types::DidChangeConfigurationParams>(
                    DidChangeConfiguration::METHOD,
                ) {
                    self.configure(p.settings);
                }
            }
            _ => {}
        }
    }

    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        match request.method.as_str() {
            CodeActionRequest::METHOD => {
                match request.extract::<CodeActionParams>(CodeActionRequest::METHOD) {
                    Ok((id, params)) => Response::new_ok(id, self.code_actions(params)),
                    Err(e) => invalid(id, e),
                }
            }
            ExecuteCommand::METHOD => match request
                .extract::<ExecuteCommandParams>(ExecuteCommand::METHOD)
            {
                Ok((id, params)) => match self.execute(params) {
                    Ok(()) => Response::new_ok(id, Value::Null),
                    Err(message) => Response::new_err(id, ErrorCode::InvalidParams as i32, message),
                },
                Err(e) => invalid(id, e),
            },
            method => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("typofix does not answer {method}"),
            ),
        }
    }

    fn check(&mut self, uri: lsp_types::Uri, document: Document) {
        self.languages
            .insert(uri.as_str().to_string(), document.language.clone());
        self.jobs.send(Job::Check(uri, document)).ok();
    }

    /// A replacement for each correction in the range, and "add to
    /// dictionary" for each corrected word.
    fn code_actions(&self, params: CodeActionParams) -> Vec<CodeActionOrCommand> {
        let uri = params.text_document.uri;
        let published = self.published.lock().unwrap();
        let Some(found) = published.get(uri.as_str()) else {
            return Vec::new();
        };
        let wanted = params.range;
        let mut actions = Vec::new();
        for f in found
            .iter()
            .filter(|f| f.range.start <= wanted.end && wanted.start <= f.range.end)
        {
            actions.push(CodeActionOrCommand::CodeAction(replace(&uri, f)));
            if !f.original.contains(char::is_whitespace) {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Add \"{}\" to the dictionary", f.original),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![checker::diagnostic(f)]),
                    command: Some(Command::new(
                        format!("Add \"{}\" to the dictionary", f.original),
                        ADD_TO_DICTIONARY.to_string(),
                        Some(vec![json!(f.original)]),
                    )),
                    ..CodeAction::default()
                }));
            }
        }
        actions
    }

    fn execute(&mut self, params: ExecuteCommandParams) -> Result<(), String> {
        if params.command != ADD_TO_DICTIONARY {
            return Err(format!("typofix has no command {}", params.command));
        }
        let Some(Value::String(word)) = params.arguments.first() else {
            return Err(format!("{ADD_TO_DICTIONARY} takes the word to add"));
        };
        let path = self.allow_file().ok_or_else(|| {
            "no workspace folder to keep the dictionary in: open a folder, or set \
             allowFile to an absolute path"
                .to_string()
        })?;
        typofix::allow::add(&path, word).map_err(|e| e.to_string())?;
        self.apply(self.settings.clone());
        Ok(())
    }

    /// Takes new settings (and the allow-list they name), and has every
    /// open document checked again. Bad settings are shown to the user and
    /// the old ones kept.
    fn configure(&mut self, value: Value) {
        match Settings::from_json(value) {
            Ok(settings) => self.apply(settings),
            Err(message) => self.show(MessageType::ERROR, message),
        }
    }

    fn apply(&mut self, settings: Settings) {
        let mut words = Vec::new();
        if let Some(path) = self.allow_file_for(&settings) {
            match typofix::allow::read(&path) {
                Ok(read) => words = read,
                Err(typofix::Error::NotFound(_)) => {}
                Err(e) => self.show(MessageType::WARNING, format!("typofix: {e}")),
            }
        }
        let options = FixOptions {
            threshold: settings.threshold,
            ..FixOptions::default()
        }
        .allow_words(words);
        self.settings = settings.clone();
        self.jobs.send(Job::Configure(options, settings)).ok();
    }

    fn allow_file(&self) -> Option<PathBuf> {
        self.allow_file_for(&self.settings)
    }

    fn allow_file_for(&self, settings: &Settings) -> Option<PathBuf> {
        let path = PathBuf::from(&settings.allow_file);
        if path.is_absolute() {
            Some(path)
        } else {
            self.root.as_ref().map(|root| root.join(path))
        }
    }

    fn show(&self, typ: MessageType, message: String) {
        let params = ShowMessageParams { typ, message };
        let note = Notification::new(ShowMessage::METHOD.to_string(), params);
        self.connection.sender.send(note.into()).ok();
    }
}

fn replace(uri: &lsp_types::Uri, found: &Found) -> CodeAction {
    let edit = TextEdit::new(found.range, found.replacement.clone());
    CodeAction {
        title: format!("Replace with \"{}\"", found.replacement),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![checker::diagnostic(found)]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(true),
        ..CodeAction::default()
    }
}

fn invalid(id: RequestId, e: lsp_server::ExtractError<Request>) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, format!("{e:?}"))
}

/// The first workspace folder, or the older root URI, as a path.
fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    #[allow(deprecated)] // rootUri: what clients without folders send
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())?;
    url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}
