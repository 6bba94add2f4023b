//! The OCR accuracy targets, on a seed the parsing was never tuned on: at least 99% exact
//! per field on clean renders, at least 95% on degraded phone photos (those the quality gate
//! lets through). `beian ocr-accuracy` prints the same table.

use beian::synth::ocr_accuracy::{self, Condition};
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;

#[test]
fn every_field_meets_its_accuracy_target_on_unseen_identities() {
    let models = Models::shared(&crate::helpers::models_dir(), OcrModels::Ppocrv6Small, 2)
        .expect("the models load");
    let report = ocr_accuracy::run(&models, 100, 90_210, None, None).expect("the run completes");
    let table = report.markdown();
    assert!(report.worst(Condition::Clean) >= 0.99, "{table}");
    assert!(report.worst(Condition::Degraded) >= 0.95, "{table}");
    // The gate lets most of the degraded photos through (they are sharp enough to read).
    let sent_back: usize = report.gate_sent_back.values().sum();
    assert!(sent_back * 4 < report.degraded_photos, "{table}");
}
