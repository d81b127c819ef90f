//! The language server over an in-memory connection, as an editor drives
//! it: the handshake, diagnostics on open and on change, code actions,
//! "add to dictionary", settings, and shutdown.

use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};
use typofix::Corrector;

fn corrector() -> Arc<Corrector> {
    static CORRECTOR: OnceLock<Arc<Corrector>> = OnceLock::new();
    CORRECTOR
        .get_or_init(|| Arc::new(Corrector::builtin().unwrap()))
        .clone()
}

/// An editor's end of the connection.
struct Editor {
    connection: Connection,
    server: Option<thread::JoinHandle<Result<(), typofix_lsp::Error>>>,
    next_id: i32,
    root: tempfile::TempDir,
}

impl Editor {
    /// Starts a server and initializes it, with `capabilities` and
    /// `options` as the client's.
    fn start(capabilities: Value, options: Value) -> (Editor, Value) {
        let (client, server) = Connection::memory();
        let corrector = corrector();
        let handle = thread::spawn(move || typofix_lsp::run(&server, corrector));
        let root = tempfile::tempdir().unwrap();
        let mut editor = Editor {
            connection: client,
            server: Some(handle),
            next_id: 0,
            root,
        };
        let uri = url::Url::from_directory_path(editor.root.path()).unwrap();
        let result = editor.request(
            "initialize",
            json!({
                "capabilities": capabilities,
                "initializationOptions": options,
                "workspaceFolders": [{"uri": uri.as_str(), "name": "root"}],
            }),
        );
        editor.notify("initialized", json!({}));
        (editor, result)
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let request = Request::new(id.clone(), method.to_string(), params);
        self.connection.sender.send(request.into()).unwrap();
        loop {
            match self.receive() {
                Message::Response(Response {
                    id: got,
                    response_result,
                }) if got == id => {
                    return response_result.unwrap_or_else(|e| panic!("{method}: {e:?}"));
                }
                _ => {} // diagnostics published meanwhile
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        let note = Notification::new(method.to_string(), params);
        self.connection.sender.send(note.into()).unwrap();
    }

    fn receive(&self) -> Message {
        self.connection
            .receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answers within a minute")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&self, uri: &str) -> Value {
        loop {
            if let Message::Notification(n) = self.receive() {
                if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri {
                    return n.params;
                }
            }
        }
    }

    fn open(&self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    fn uri(&self, name: &str) -> String {
        url::Url::from_file_path(self.root.path().join(name))
            .unwrap()
            .to_string()
    }

    fn shut_down(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let server = self.server.take().unwrap();
        drop(self.connection);
        server.join().unwrap().unwrap();
    }
}

/// The diagnostics' `original → replacement` messages.
fn messages(published: &Value) -> Vec<String> {
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_opened_document_gets_a_diagnostic_per_typo_and_a_quick_fix_for_each() {
    let (mut editor, init) = Editor::start(json!({}), Value::Null);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["serverInfo"]["name"], "typofix");
    let uri = editor.uri("notes.txt");
    editor.open(
        &uri,
        "plaintext",
        "Fine text here.\n\nThe quikc brown fox.\n",
    );
    let published = editor.diagnostics(&uri);
    assert_eq!(messages(&published), ["quikc → quick"]);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(diagnostic["source"], "typofix");
    assert_eq!(
        diagnostic["range"],
        json!({"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 9}})
    );

    let actions = editor.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        }),
    );
    let first = &actions[0];
    assert_eq!(first["title"], "Replace with \"quick\"");
    assert_eq!(first["kind"], "quickfix");
    assert_eq!(
        first["edit"]["changes"][&uri],
        json!([{"range": diagnostic["range"], "newText": "quick"}])
    );
    assert_eq!(actions[1]["command"]["command"], "typofix.addToDictionary");
    editor.shut_down();
}

#[test]
fn a_change_is_checked_again_and_published_with_its_version() {
    let (editor, _) = Editor::start(json!({}), Value::Null);
    let uri = editor.uri("a.txt");
    editor.open(&uri, "plaintext", "All fine.\n");
    assert_eq!(messages(&editor.diagnostics(&uri)), Vec::<String>::new());
    for (version, text) in [
        (2, "teh"),
        (3, "teh cat"),
        (4, "All fine.\n\nI recieved it.\n"),
    ] {
        editor.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }
    // Changes in quick succession are checked once, at the newest version.
    let published = editor.diagnostics(&uri);
    assert_eq!(published["version"], 4);
    assert_eq!(messages(&published), ["recieved → received"]);
    editor.shut_down();
}

#[test]
fn positions_are_in_utf8_bytes_when_the_client_asks_for_them() {
    let capabilities = json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}});
    let (editor, init) = Editor::start(capabilities, Value::Null);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let uri = editor.uri("emoji.txt");
    editor.open(&uri, "plaintext", "😀 é teh cat\n");
    let published = editor.diagnostics(&uri);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"]["character"],
        8
    );
    editor.shut_down();

    let (editor, _) = Editor::start(json!({}), Value::Null);
    editor.open(&uri, "plaintext", "😀 é teh cat\n");
    let published = editor.diagnostics(&uri);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"]["character"], 5,
        "UTF-16: 😀 is two units, é one"
    );
    editor.shut_down();
}

#[test]
fn markdown_code_and_commit_comments_are_not_checked() {
    let (editor, _) = Editor::start(json!({}), Value::Null);
    let readme = editor.uri("README.md");
    editor.open(
        &readme,
        "markdown",
        "Run `teh` as\n\n```sh\nteh --recieved\n```\n\nand teh rest.\n",
    );
    let published = editor.diagnostics(&readme);
    assert_eq!(messages(&published), ["teh → the"]);
    assert_eq!(published["diagnostics"][0]["range"]["start"]["line"], 6);

    let commit = editor.uri("COMMIT_EDITMSG");
    editor.open(
        &commit,
        "gitcommit",
        "Fix teh bug\n# Please enter teh message\n",
    );
    assert_eq!(messages(&editor.diagnostics(&commit)), ["teh → the"]);

    let code = editor.uri("main.rs");
    editor.open(&code, "rust", "// teh\n");
    assert_eq!(messages(&editor.diagnostics(&code)), Vec::<String>::new());
    editor.shut_down();
}

#[test]
fn add_to_dictionary_writes_the_allow_list_and_the_word_is_no_longer_flagged() {
    let (mut editor, _) = Editor::start(json!({}), Value::Null);
    let uri = editor.uri("names.txt");
    editor.open(&uri, "plaintext", "We fixed teh quikc bug.\n");
    assert_eq!(
        messages(&editor.diagnostics(&uri)),
        ["teh → the", "quikc → quick"]
    );
    let result = editor.request(
        "workspace/executeCommand",
        json!({"command": "typofix.addToDictionary", "arguments": ["teh"]}),
    );
    assert_eq!(result, Value::Null);
    let allow = editor.root.path().join(".typofix-allow.txt");
    assert_eq!(std::fs::read_to_string(&allow).unwrap(), "teh\n");
    assert_eq!(messages(&editor.diagnostics(&uri)), ["quikc → quick"]);
    editor.shut_down();
}

#[test]
fn settings_set_the_threshold_and_the_file_types() {
    let (editor, _) = Editor::start(json!({}), json!({"fileTypes": ["markdown"]}));
    let uri = editor.uri("plain.txt");
    editor.open(&uri, "plaintext", "teh cat\n");
    assert_eq!(messages(&editor.diagnostics(&uri)), Vec::<String>::new());
    editor.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"typofix": {"fileTypes": ["plaintext"], "threshold": 1e6}}}),
    );
    editor.open(&uri, "plaintext", "teh cat\n");
    assert_eq!(
        messages(&editor.diagnostics(&uri)),
        Vec::<String>::new(),
        "no correction clears a threshold that high"
    );
    editor.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"typofix": {"fileTypes": ["plaintext"]}}}),
    );
    assert_eq!(messages(&editor.diagnostics(&uri)), ["teh → the"]);

    editor.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"typofix": {"treshold": 2}}}),
    );
    loop {
        if let Message::Notification(n) = editor.receive() {
            if n.method == "window/showMessage" {
                assert!(n.params["message"].as_str().unwrap().contains("treshold"));
                break;
            }
        }
    }
    editor.shut_down();
}

#[test]
fn a_long_document_is_checked_in_parts_and_a_new_edit_is_not_kept_waiting() {
    let (editor, _) = Editor::start(json!({}), Value::Null);
    let uri = editor.uri("long.txt");
    let paragraph = "The comittee recieved teh report and will meet on Tuesday.\n\n";
    let long: String = (0..400).map(|n| format!("{n}. {paragraph}")).collect();
    editor.open(&uri, "plaintext", &long);
    // Typed while the long text is being checked: the server drops that
    // work and answers the newest text.
    thread::sleep(Duration::from_millis(400));
    editor.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "teh\n"}]}),
    );
    let start = std::time::Instant::now();
    let published = editor.diagnostics(&uri);
    assert_eq!(published["version"], 2);
    assert_eq!(messages(&published), ["teh → the"]);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    editor.shut_down();
}
