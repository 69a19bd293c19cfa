"""Train an SVM classifier on the iris data set.

The Azure ML (SDK v1) scikit-learn sample, written for current numpy and scikit-learn.
It runs unmodified on Azure ML and locally under amlocal: metrics go through
``Run.get_context()`` and the model is written to ``./outputs``.

    python train_iris.py --kernel rbf --penalty 0.5 [--data-folder DIR]

With ``--data-folder`` the data is read from ``DIR/iris.csv`` (header: sepal_length,
sepal_width, petal_length, petal_width, species); otherwise scikit-learn's bundled copy is used.
"""

import argparse
import csv
import os

import joblib
import numpy as np
from sklearn import datasets
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from azureml.core.run import Run

run = Run.get_context()

FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']


def load_data(data_folder):
    """Return (X, y): the four measurements and the species of each flower."""
    if data_folder is None:
        iris = datasets.load_iris()
        return iris.data, iris.target
    with open(os.path.join(data_folder, 'iris.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(row[name]) for name in FEATURES] for row in rows])
    y = np.array([row['species'] for row in rows])
    return X, y


def main():
    parser = argparse.ArgumentParser()

    parser.add_argument('--kernel', type=str, default='linear',
                        help='Kernel type to be used in the algorithm')
    parser.add_argument('--penalty', type=float, default=1.0,
                        help='Penalty parameter of the error term')
    parser.add_argument('--data-folder', type=str, dest='data_folder', default=None,
                        help='Folder holding iris.csv (default: the copy bundled with scikit-learn)')

    args = parser.parse_args()
    run.log('Kernel type', str(args.kernel))
    run.log('Penalty', float(args.penalty))

    # X -> features, y -> label
    X, y = load_data(args.data_folder)

    # dividing X, y into train and test data
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

    # training an SVM classifier
    svm_model_linear = SVC(kernel=args.kernel, C=args.penalty).fit(X_train, y_train)
    svm_predictions = svm_model_linear.predict(X_test)

    # model accuracy for X_test
    accuracy = svm_model_linear.score(X_test, y_test)
    print('Accuracy of SVM classifier on test set: {:.2f}'.format(accuracy))
    run.log('Accuracy', float(accuracy))
    # creating a confusion matrix
    cm = confusion_matrix(y_test, svm_predictions)
    print(cm)

    os.makedirs('outputs', exist_ok=True)
    # files saved in the "outputs" folder are automatically uploaded into run history
    joblib.dump(svm_model_linear, 'outputs/model.joblib')


if __name__ == '__main__':
    main()
